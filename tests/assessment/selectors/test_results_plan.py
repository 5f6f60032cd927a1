"""The results query reads every answer from one covering index on SQLite: the level,
"not applicable" and "don't know" of each submitted answer are in the index, so the
database never visits the answer rows themselves (make bench's scoring figure)."""

import pytest
from django.db import connection

from assessment.selectors import results
from tests.factories import make_assessment, make_organisation, make_response, make_team


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plan")
def test_the_totals_query_reads_answers_from_a_covering_index():
    assessment = make_assessment(make_team(make_organisation()), status="submitted")
    for _ in range(3):
        make_response(assessment, levels=[3, 4], status="completed")
    responses, params = (
        results._counted_responses([assessment.pk], viewer_id=None)
        .values("pk")
        .query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN QUERY PLAN " + results._TOTALS_SQL.format(responses=responses),
            (0, *params),
        )
        plan = [row[-1] for row in cursor.fetchall()]
    answers = [step for step in plan if step.startswith(("SEARCH a ", "SCAN a "))]
    assert answers == ["SEARCH a USING COVERING INDEX answer_submitted_totals_idx (response_id=?)"]
