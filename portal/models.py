"""Import every model so that metadata is complete (Alembic, tests)."""

from portal.account.models import ContactPoint, Customer, DataChange, Order
from portal.audit.models import AuditRecord, CustomerDataView
from portal.auth.models import CustomerSession
from portal.board_version import ChangeCounter
from portal.consent.models import ConsentEntry
from portal.email_links import EmailLink
from portal.incidents.models import AffectedCustomer, BreachIncident, IncidentComplaint
from portal.outbox.models import DeliveryAttempt, OutboxMessage
from portal.oversight.models import OversightAlert
from portal.settings.models import CalendarOverride, Setting
from portal.staff.models import StaffMember, StaffRecoveryCode, StaffSession
from portal.tickets.models import Ticket, TicketEntry

__all__ = ["AffectedCustomer", "AuditRecord", "BreachIncident", "CalendarOverride", "ChangeCounter", "ConsentEntry",
           "ContactPoint", "Customer", "CustomerDataView", "CustomerSession", "DataChange", "DeliveryAttempt",
           "EmailLink", "IncidentComplaint", "Order", "OutboxMessage", "OversightAlert", "Setting", "StaffMember",
           "StaffRecoveryCode", "StaffSession", "Ticket", "TicketEntry"]
