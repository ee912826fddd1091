"""What outbreaks do when cases change: a contact who becomes a case brings the settings they attended."""
from tts.cases import events
from tts.outbreaks.services import carry_links


@events.contact_converted.register
def settings_follow_the_person(actor, contact, case) -> None:
    carry_links(actor, contact, case)
