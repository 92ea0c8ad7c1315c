"""Reading an export: encodings, CSV (row by row and in Arrow blocks), JSON streams, and the
cell and column converters the formats share."""
