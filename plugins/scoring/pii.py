"""The scoring plugin's encrypted columns, for ``kopilka pii rotate`` and ``kopilka pii reindex``."""

from core.access.pii import PiiField
from plugins.scoring.records import subject_key_of_json

#: The applicant (JSON), and the blind index of who they are, recomputed from it.
APPLICANT_FIELD = PiiField("scoring_inquiries", "id", "applicant_enc", "subject_bidx", subject_key_of_json)
#: A report: details, factors and the provider's document (JSON).
REPORT_FIELD = PiiField("scoring_results", "id", "report_enc")

FIELDS = (APPLICANT_FIELD, REPORT_FIELD)
