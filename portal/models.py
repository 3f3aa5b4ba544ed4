"""Import every model so that metadata is complete (Alembic, tests)."""

from portal.account.models import Consent, ContactPoint, Customer, DataChange, Order
from portal.audit.models import AuditRecord
from portal.auth.models import CustomerSession, SignInLink
from portal.outbox.models import DeliveryAttempt, OutboxMessage

__all__ = ["AuditRecord", "Consent", "ContactPoint", "Customer", "CustomerSession", "DataChange",
           "DeliveryAttempt", "Order", "OutboxMessage", "SignInLink"]
