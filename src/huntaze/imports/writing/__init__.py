"""Writing an import: batches and blocks planned against the stored fans, then written in
one transaction each (``writer``), with the bulk-load path for a large first import."""
