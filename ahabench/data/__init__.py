"""Expert demos: collection (:mod:`.collect`), the on-disk format (:mod:`.format`) and training samples (:mod:`.dataset`)."""
