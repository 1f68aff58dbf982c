"""What the app keeps about a person: their export, the erasure of their account."""
