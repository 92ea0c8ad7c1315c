"""Small shared pieces: clock, ids, money, pagination, errors."""
