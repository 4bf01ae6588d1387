"""Text classification: the course's two sentiment-analysis solutions for any labelled text."""
