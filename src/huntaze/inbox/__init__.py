"""The inbox: conversations with fans, their messages and threads, and quick replies."""
