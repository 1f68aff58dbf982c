"""The decision log: finding decisions, their record, their reviews, and exports."""
