"""Status and kind labels are declared with their enums (tts/models_base.py, Labelled), not in templates."""
import pytest

from tts.callqueue.models import ItemStatus, Outcome, WorkItem
from tts.escalation.models import Escalation, EscalationStatus
from tts.imports.models import ImportBatch, ImportStatus
from tts.models_base import Labelled
from tts.reports.models import ExportJob, ExportStatus
from tts.simulation.models import RunStatus, SimulationRun
from tts.support.models import SupportNeed, SupportStatus
from tts.telephony.models import Message, MessageStatus


@pytest.mark.parametrize("enum, model", [(ItemStatus, WorkItem), (EscalationStatus, Escalation),
                                         (ImportStatus, ImportBatch), (ExportStatus, ExportJob),
                                         (RunStatus, SimulationRun), (SupportStatus, SupportNeed),
                                         (MessageStatus, Message)])
def test_every_stored_status_has_its_label_and_the_model_reads_it(enum, model):
    assert issubclass(enum, Labelled)
    for member in enum:
        assert member.label and member.label[0].isupper()
        assert model(status=member.value).status_label == member.label
    assert enum.label_of("something_new") == "Something new" and enum.label_of(None) == ""


def test_values_are_stored_as_plain_strings_and_compare_as_such():
    assert Outcome.REACHED == "reached" and Outcome("reached").label == "Reached: spoke to them"
    assert MessageStatus.DELIVERED.tag == "green" and MessageStatus.tag_of("nonsense") == "grey"


def test_the_checks_templates_use_are_the_models():
    assert ImportBatch(status="processing").in_progress and not ImportBatch(status="rejected").in_progress
    assert WorkItem(status="escalated").is_finished and not WorkItem(status="claimed").is_finished
    assert Escalation(status="assigned").may_assign and not Escalation(status="visited").may_assign
    assert Escalation(status="visited").is_open and not Escalation(status="resolved").is_open
    assert SupportNeed(status="referred").is_active and not SupportNeed(status="declined").is_active
    assert SimulationRun(status="pending").in_progress and ExportJob(status="expired").finished
