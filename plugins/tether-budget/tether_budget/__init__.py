"""tether-budget: spending limits for Tether, from the cost the agent reports."""

from tether_budget.ledger import Ledger, LedgerState
from tether_budget.plugin import EXCEEDED, RESET, BudgetPlugin
from tether_budget.settings import BudgetSettings

__all__ = ["EXCEEDED", "RESET", "BudgetPlugin", "BudgetSettings", "Ledger", "LedgerState"]
