"""Database engine, sessions, declarative base and column types."""
