"""Import every model so that metadata is complete (Alembic, tests)."""

from portal.account.models import Consent, ContactPoint, Customer, DataChange, Order
from portal.audit.models import AuditRecord
from portal.auth.models import CustomerSession, SignInLink
from portal.outbox.models import DeliveryAttempt, OutboxMessage
from portal.staff.models import StaffMember, StaffPasswordLink, StaffRecoveryCode, StaffSession
from portal.tickets.models import CustomerDataView, DayOff, Setting, Ticket, TicketEntry

__all__ = ["AuditRecord", "Consent", "ContactPoint", "Customer", "CustomerSession", "DataChange",
           "CustomerDataView", "DayOff", "DeliveryAttempt", "Order", "OutboxMessage", "Setting", "SignInLink",
           "StaffMember", "StaffPasswordLink", "StaffRecoveryCode", "StaffSession", "Ticket", "TicketEntry"]
