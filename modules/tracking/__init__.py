"""HR tracking: assignments and deadlines, dashboards, exports, evidence packs and reminders."""
