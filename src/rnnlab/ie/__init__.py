"""Information extraction: French real-estate ads into a filled template (tagger + rules; see extractor)."""
