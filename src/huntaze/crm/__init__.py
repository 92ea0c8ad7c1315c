"""The fans CRM: fans, purchases, conversations, messages, quick replies and importers."""
