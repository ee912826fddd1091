"""What a case's life sets off. Features above cases register handlers here (tts/hooks.py)."""
from tts.hooks import Hook

contact_converted = Hook("contact_converted", "A contact tested positive and became a case: (actor, contact, case).")
