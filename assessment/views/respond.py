"""Respondents: invitation links and the questionnaire.

These pages serve both invitees (no account: their session holds the responses
they may open) and signed-in managers answering for themselves, so they are not
behind LoginRequiredMiddleware; ``access.response_for_respondent`` decides.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.template.loader import get_template
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessment import access, languages, selectors, services
from assessment.forms.customers import CustomerPredictionForm
from assessment.forms.respondent import (
    AnswerForm,
    CompleteForm,
    SectionSaveQuery,
    level_value,
    parse_page,
    posted_question_ids,
    rows_from_input,
)
from assessment.middleware import invitee_session_start
from assessment.models import COMMENT_MAX_LENGTH, Response, token_digest

# The session holds only the digest of a link's token, as the database does.
SESSION_LINK_DIGEST = "invitation_link_digest"
SESSION_RENEW = "invitation_renew"
# The autosave reply's header that lists the questions saved (static/js/app.js reads it).
SAVED_HEADER = "X-Answers-Saved"


@login_not_required
@never_cache
@require_GET
def invitation_link(request: HttpRequest, token: str) -> HttpResponse:
    """Move the link from the URL into the session (as its digest), so the token never
    sits in a Referer header nor in the session table."""
    request.session[SESSION_LINK_DIGEST] = token_digest(token)
    response = redirect("assessment:invitation_landing")
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_not_required
@never_cache  # what it says depends on the session (a link popped from it is not stored)
@require_http_methods(["GET", "POST"])
def invitation_landing(request: HttpRequest) -> HttpResponse:
    """GET says what the link in the session is; POST uses it, once.

    Using the link only on a POST means mail scanners that follow links cannot spend it
    before the invitee does. A GET only inspects it: a dead link says why at once, and a
    link whose response this browser already holds leads straight back to it (without
    spending a fresh link). Without a link, the page offers the questionnaires this
    browser holds.
    """
    digest = request.session.get(SESSION_LINK_DIGEST)
    held = access.responses_held(request)
    if digest is None:
        return render(
            request,
            "assessment/respond/link_problem.html",
            {"state": None, "remembered": selectors.respondent.remembered_responses(held)},
        )
    state = selectors.respondent.link_state(digest)
    # Without a choice of their own, an invitee reads in their invitation's language.
    if state.invitation is not None and languages.use_default(
        request, languages.for_invitation(state.invitation)
    ):
        state = selectors.respondent.link_state(digest)  # its messages, in that language
    # Only the response of this very link, and only if this browser already holds it:
    # someone else's link never reveals or attaches their response.
    if state.response_id is not None and state.response_id in held and state.problem != "revoked":
        request.session.pop(SESSION_LINK_DIGEST, None)
        return _resume(access.response_for_respondent(request, state.response_id))
    if state.problem is not None:
        return _link_problem(request, state)
    if request.method == "GET":
        return render(
            request,
            "assessment/respond/link_start.html",
            {"introduction": state.introduction},
        )
    try:
        response = services.invitation_redeem_digest(token_hash=digest)
    except services.LinkProblem:
        # Used or expired since the GET: say why, as the GET would now.
        return _link_problem(request, selectors.respondent.link_state(digest))
    # A new session key once the link is used: a session planted before cannot ride along.
    request.session.cycle_key()
    request.session.pop(SESSION_LINK_DIGEST, None)
    access.remember_response(request, response)
    if not request.user.is_authenticated:
        # Idles out like every session, ends at the latest when the link would have
        # expired; a signed-in user's session keeps its own clocks.
        invitee_session_start(request.session, link_expires_at=response.invitation.token_expires_at)
    # Straight to the first section (one redirect fewer than through response_start).
    return _resume(response)


def _link_problem(request: HttpRequest, state: selectors.respondent.LinkState) -> HttpResponse:
    """Why the link cannot be used, and the one action that helps (410; 404 if unknown)."""
    request.session.pop(SESSION_LINK_DIGEST, None)
    if state.renewable:
        request.session[SESSION_RENEW] = state.invitation.pk
    return render(
        request,
        "assessment/respond/link_problem.html",
        {"state": state},
        status=state.status,
    )


@login_not_required
@require_POST
def invitation_renew(request: HttpRequest) -> HttpResponse:
    """E-mail a fresh link to the invitation's own address (the one the old link came to)."""
    invitation_pk = request.session.pop(SESSION_RENEW, None)
    invitation = selectors.respondent.invitation_to_renew(invitation_pk)
    if invitation is None:
        raise Http404
    try:
        services.invitation_renew(invitation=invitation)
    except services.ServiceError as error:
        messages.error(request, str(error))
        return render(request, "assessment/respond/link_problem.html", {"state": None})
    return render(request, "assessment/respond/link_sent.html", {"invitation": invitation})


@login_not_required
@require_GET
def response_start(request: HttpRequest, pk: int) -> HttpResponse:
    """Resume where the respondent stopped: the first section not yet finished."""
    return _resume(access.response_for_respondent(request, pk))


def _resume(response: Response) -> HttpResponse:
    """A redirect to where the respondent stopped: the first section not yet finished; the
    review page once the answers can no longer be changed, or when the questionnaire asks
    this person nothing (it says so, and nothing is left to answer)."""
    progress = selectors.respondent.section_progress(response) if response.is_editable else []
    target = next((p for p in progress if p.state != "done"), progress[0] if progress else None)
    if target is None:
        return redirect("assessment:review", pk=response.pk)
    return redirect("assessment:section", pk=response.pk, section_pk=target.section.pk)


@login_not_required
@require_http_methods(["GET", "POST"])
def section_page(request: HttpRequest, pk: int, section_pk: int) -> HttpResponse:
    """One section of the questionnaire; POST is "Save and continue" (works without JavaScript)."""
    response = access.response_for_respondent(request, pk)
    page = selectors.respondent.questionnaire_page(response, section_pk)
    if page is None:
        raise Http404
    if request.method == "GET":
        return _render_section(request, page)

    if not response.is_editable or not response.assessment.is_open:
        messages.error(request, _("These answers were submitted and can no longer be changed."))
        return redirect("assessment:review", pk=response.pk)
    inputs, errors = parse_page(request.POST, page.rows)
    if errors:  # each beside its question; nothing on the page is saved
        page.rows = rows_from_input(page.rows, request.POST, errors)
        messages.error(request, _("Nothing was saved: check the answers marked below."))
        return _render_section(request, page, status=400)
    try:
        outcome = services.answers_save(
            response=response,
            answers=inputs,
            questions={row.question.pk: row.question for row in page.rows},
        )
    except services.ServiceError as error:
        page.rows = rows_from_input(page.rows, request.POST)
        messages.error(request, str(error))
        return _render_section(request, page, status=400)

    if outcome.conflicts:
        return _render_conflicts(request, response, section_pk, outcome)
    messages.success(request, _("Your answers are saved."))
    finish = SectionSaveQuery(request.GET)
    if page.next is not None and not (finish.is_valid() and finish.cleaned_data["finish"]):
        return redirect("assessment:section", pk=response.pk, section_pk=page.next.pk)
    return redirect("assessment:review", pk=response.pk)


def _render_conflicts(
    request: HttpRequest, response, section_pk: int, outcome: services.SaveOutcome
) -> HttpResponse:
    """Show the newer stored answers beside the user's own input, which stays in the form."""
    page = selectors.respondent.questionnaire_page(response, section_pk)
    submitted = {c.question_id: c.submitted for c in outcome.conflicts}
    stored = selectors.respondent.stored_answers(response, submitted)
    for row in page.rows:
        mine = submitted.get(row.question.pk)
        if mine is None:
            continue
        row.conflict = stored.get(row.question.pk)
        row.level = level_value(mine.level, mine.not_applicable, mine.dont_know)
        row.comment = mine.comment
        # Saving again now deliberately replaces the newer answer with this input.
        row.revision = row.conflict.revision if row.conflict else 0
    page.conflicts = len(submitted)
    return _render_section(request, page, status=409)


def _render_section(request: HttpRequest, page, status: int = 200) -> HttpResponse:
    response = page.response
    answerable = response.assessment.is_open and (response.is_editable or response.can_revise)
    return TemplateResponse(
        request,
        "assessment/respond/section.html",
        {
            "page": page,
            "response": response,
            "editable": response.is_editable and response.assessment.is_open and page.section_open,
            # Reopened by section: this one is not among them, so it is shown read-only.
            "locked": answerable and not page.section_open,
            "comment_max_length": COMMENT_MAX_LENGTH,
        },
        status=status,
    )


@login_not_required
@require_POST
def answers_autosave(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the answers a page changed since its last save, all at once: the script's
    batches, and its beacons when the page is hidden (whose reply nobody reads).

    Only the posted questions' fields are read (``posted_question_ids``). The reply is
    each posted question's status fragment, for the script to swap in by id: saved (with
    the new revision), a conflict with a newer answer saved elsewhere, or the problem with
    its input. A conflict or a bad value is that question's alone: the batch's other
    answers are saved. 200 when each answer was handled so; 400 when the whole batch was
    refused (the answers were submitted, or the section is closed for changes) or every
    posted answer's input was bad: every fragment then says why. A question the person is
    not asked is a 404, and nothing is written. Four queries, however many answers
    (session, response, questions, upsert).
    """
    response = access.response_for_respondent(request, pk)
    try:
        question_ids = posted_question_ids(request.POST)
    except services.ServiceError as error:
        return HttpResponseBadRequest(str(error))
    statuses, refused = _autosave(response, request.POST, question_ids)
    # Nothing saved because every posted answer's input was bad: the request is refused.
    invalid = bool(statuses) and all(s["state"] == "error" for s in statuses)
    return _status_fragments(statuses, status=400 if refused or invalid else 200)


@login_not_required
@require_POST
def answer_autosave(request: HttpRequest, pk: int, question_pk: int) -> HttpResponse:
    """One question's autosave, as pages opened before the batch autosave post it (they
    hold the older script, and their beacons come here when they are closed): the batch's
    code for that one question, answered with its status as before (400, 409 or 200)."""
    response = access.response_for_respondent(request, pk)
    statuses, _refused = _autosave(response, request.POST, [question_pk])
    state = statuses[0]["state"]
    status = {"error": 400, "conflict": 409}.get(state, 200)
    return _status_fragments(statuses, status=status)


def _autosave(response, data, question_ids: list[int]) -> tuple[list[dict], bool]:
    """Save the posted answers to these questions: each question's status context, in
    order, and whether the whole batch was refused. 404 when a question is not one the
    person is asked (nothing is written)."""
    questions = selectors.respondent.asked_questions_by_pk(response, question_ids)
    if len(questions) != len(question_ids):
        raise Http404
    states: dict[int, dict] = {}
    inputs = []
    for question_id in question_ids:
        form = AnswerForm.for_question(data, questions[question_id])
        try:
            inputs.append(form.answer())
        except services.ServiceError as error:
            # This question's own problem: nothing of it is saved, the others are.
            states[question_id] = {
                "state": "error",
                "message": str(error),
                "revision": form.posted_revision(),
            }
    refused = False
    try:
        outcome = services.answers_save(response=response, answers=inputs, questions=questions)
    except services.ServiceError as error:
        refused = True
        for answer in inputs:
            states[answer.question_id] = {
                "state": "error",
                "message": str(error),
                "revision": answer.base_revision,
            }
    else:
        for saved in outcome.saved:
            states[saved.question_id] = {"state": "saved", "revision": saved.revision}
        if outcome.conflicts:
            stored = selectors.respondent.stored_answers(
                response, [c.question_id for c in outcome.conflicts]
            )
            for conflict in outcome.conflicts:
                newer = stored[conflict.question_id]
                states[conflict.question_id] = {
                    "state": "conflict",
                    "stored": newer,
                    "revision": newer.revision,
                }
    statuses = [
        {"question": questions[question_id], "response": response, **states[question_id]}
        for question_id in question_ids
    ]
    return statuses, refused


def _status_fragments(statuses: list[dict], status: int) -> HttpResponse:
    """The questions' status fragments (``answer-status`` in section.html), one after the
    other, each with its own id; the header ``X-Answers-Saved`` lists the questions saved
    (by pk, space-separated), which the script no longer counts as changed."""
    template = get_template("assessment/respond/section.html#answer-status")
    # Without the request: the fragment needs no context processor, and running them once
    # per question would cost more than the save.
    reply = HttpResponse("".join(template.render(context) for context in statuses), status=status)
    reply[SAVED_HEADER] = " ".join(
        str(context["question"].pk) for context in statuses if context["state"] == "saved"
    )
    return reply


@login_not_required
@require_GET
def review(request: HttpRequest, pk: int) -> HttpResponse:
    """Unanswered questions, each linked, and those answered "don't know" or "not
    applicable"; then the final submission (a confirmation step)."""
    response = access.response_for_respondent(request, pk)
    note = selectors.respondent.round_note(response)
    lists = selectors.respondent.review_lists(response)
    unanswered = lists.unanswered
    if note is not None:  # only what this round lets the person change
        unanswered = [q for q in unanswered if note.allows(q.section_id)]
    return render(
        request,
        "assessment/respond/review.html",
        {
            "response": response,
            "round_note": note,
            "unanswered": unanswered,
            "set_aside": lists.set_aside,
            "progress": selectors.respondent.with_round_note(lists.progress, note),
            # Format 2: "not applicable to us" and "don't know" apart, audiences named.
            "has_audiences": any(p.section.version.has_audiences for p in lists.progress),
            "anonymity_minimum": settings.ANONYMITY_THRESHOLD,
            "prediction_offer": selectors.customers.prediction_offer(response),
        },
    )


@login_not_required
@require_POST
def complete(request: HttpRequest, pk: int) -> HttpResponse:
    """Make the answers final. A second click (or a second tab) lands on the same page."""
    response = access.response_for_respondent(request, pk)
    form = CompleteForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["confirm"][0])
        return redirect("assessment:review", pk=response.pk)
    try:
        services.response_complete(response=response)
    except services.ServiceError as error:
        messages.error(request, str(error))
        return redirect("assessment:review", pk=response.pk)
    # The review page itself confirms the submission (and says so again on a second click).
    return redirect("assessment:review", pk=response.pk)


@login_not_required
@require_POST
def revise(request: HttpRequest, pk: int) -> HttpResponse:
    """Change answers completed in an earlier round; they still count until completed again."""
    response = access.response_for_respondent(request, pk)
    try:
        services.response_revise(response=response)
    except services.ServiceError as error:
        messages.error(request, str(error))
        return redirect("assessment:review", pk=response.pk)
    messages.info(
        request,
        _(
            "You can change your answers now. Your answers from the last round still count "
            "until you complete again."
        ),
    )
    return redirect("assessment:response_start", pk=response.pk)


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def customer_prediction(request: HttpRequest, pk: int) -> HttpResponse:
    """Optional: what the respondent expects customers to say, attribute by attribute,
    for the assessment's customer survey (docs/customer-voice.md, "The team's prediction")."""
    response = access.response_for_respondent(request, pk)
    offer = selectors.customers.prediction_offer(response)
    if offer is None:
        raise Http404
    version = offer.survey.version
    form = CustomerPredictionForm(
        request.POST if request.method == "POST" else None,
        version=version,
        initial=CustomerPredictionForm.initial_from(offer.prediction),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_prediction_save(response=response, ratings=form.ratings())
        except services.ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Your prediction is saved. Thank you."))
            return redirect("assessment:review", pk=response.pk)
    return render(
        request,
        "assessment/respond/customer_prediction.html",
        {"response": response, "offer": offer, "form": form, "version": version},
        status=400 if request.method == "POST" else 200,
    )
