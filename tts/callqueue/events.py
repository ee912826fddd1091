"""What the queue's work sets off. Features above the queue register handlers here (tts/hooks.py);
the queue fires them in the transaction of the work, and never imports the features that react."""
from tts.hooks import Hook

item_created = Hook("item_created", "A call was queued for someone with a phone number: (actor, item).")
call_failed = Hook("call_failed", "A call went unanswered and will be tried again: (actor, item).")
person_reached = Hook("person_reached", "Someone was reached, on the phone, on the doorstep or by confirming "
                                        "their advice text: (actor, item, via=\"call\"|\"visit\"|\"text\").")
