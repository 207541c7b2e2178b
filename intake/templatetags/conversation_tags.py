"""The conversation with the person on the staff pages: `{% conversation_panel case %}` on
the case page (casework's template loads it; casework never imports intake) and
`{% request_conversation_panel intake %}` on a request's page; `{% volume_notice %}` on the
triage queue. The pages' views audit the read (CASE_VIEWED, REQUEST_VIEWED)."""

from django import template
from django.utils.translation import gettext as _

from intake import conversation_selectors, permissions
from intake.conversation_forms import ReplyForm

register = template.Library()


def _panel(context, conversation, back: str) -> dict:
    user = context["request"].user
    replies = []
    for request in conversation.requests:
        if not permissions.can_reply(user, request):
            continue
        form = ReplyForm(initial={"back": back}, auto_id=f"reply-{request.reference}-%s")
        form.fields["text"].label = _("Reply through %(channel)s") % {
            "channel": request.get_channel_display()
        }
        replies.append({"request": request, "form": form})
    return {
        "conversation": conversation,
        "replies": replies,
        "shown": bool(conversation.any or replies),
        "several": len(conversation.requests) > 1,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("intake/_conversation.html", takes_context=True)
def conversation_panel(context, case) -> dict:
    user = context["request"].user
    conversation = conversation_selectors.conversation_of_case(user, case)
    return _panel(context, conversation, ReplyForm.CASE)


@register.inclusion_tag("intake/_conversation.html", takes_context=True)
def request_conversation_panel(context, intake) -> dict:
    user = context["request"].user
    conversation = conversation_selectors.conversation_of_request(user, intake)
    return _panel(context, conversation, ReplyForm.REQUEST)


@register.inclusion_tag("intake/_volume_notice.html", takes_context=True)
def volume_notice(context) -> dict:
    return conversation_selectors.volume_counts(context["request"].user)
