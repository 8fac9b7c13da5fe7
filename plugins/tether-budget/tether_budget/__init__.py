"""tether-budget: spending limits for Tether, from the cost the agent reports."""

from tether_budget.ledger import BudgetSettings, Ledger
from tether_budget.plugin import EXCEEDED, RESET, BudgetPlugin

__all__ = ["EXCEEDED", "RESET", "BudgetPlugin", "BudgetSettings", "Ledger"]
