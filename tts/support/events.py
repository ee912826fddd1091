"""What support work sets off (tts/hooks.py): features above support register handlers here."""
from tts.hooks import Hook

arranged = Hook("support_arranged", "Support was arranged and the person asked to be told: (actor, need).")
