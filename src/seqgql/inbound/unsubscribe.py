"""Requests to stop: "unsubscribe", "remove me", "stop emailing"... in English, German,
French, Spanish, Portuguese, Italian and Dutch.

Only what the person wrote is read (the reply without its quoted history, which may hold
our own footer), and only a short one: a long reply that mentions unsubscribing in
passing is a reply. A subject that is only "unsubscribe" (what a List-Unsubscribe
``mailto:`` link sends) counts on its own."""

from __future__ import annotations

import re

from seqgql.inbound.reading import fold

# a reply longer than this is a conversation, whatever phrase it holds
MAX_REQUEST_CHARS = 600
_PHRASES = tuple(
    fold(p)
    for p in (
        # English
        "unsubscribe", "remove me", "take me off", "stop emailing", "stop e-mailing",
        "stop sending", "stop contacting", "opt out", "opt-out", "do not contact me",
        "don't contact me", "do not email me", "don't email me", "no more emails",
        "not interested, remove",
        # German
        "abmelden", "austragen", "abbestellen", "entfernen sie mich", "bitte entfernen",
        "keine e-mails mehr", "keine emails mehr", "keine mails mehr", "nicht mehr kontaktieren",
        "nicht mehr anschreiben",
        # French
        "désabonner", "désinscrire", "désinscription", "désabonnement", "retirez-moi",
        "retirez moi", "supprimez-moi", "ne plus recevoir", "arrêtez de m'envoyer",
        "ne me contactez plus",
        # Spanish
        "darme de baja", "dar de baja", "dadme de baja", "eliminarme", "elimíname",
        "quitarme de", "no me envíen", "no me envies", "dejen de enviarme",
        "cancelar suscripción", "borrarme",
        # Portuguese
        "descadastrar", "descadastre", "remova-me", "remover meu", "cancelar inscrição",
        "não quero receber", "parem de enviar", "pare de enviar", "me tire da lista",
        # Italian
        "disiscrivi", "disiscrivermi", "cancellami", "cancellatemi", "rimuovimi",
        "rimuovetemi", "non inviatemi", "non voglio ricevere", "smettete di inviarmi",
        # Dutch
        "afmelden", "uitschrijven", "verwijder mij", "verwijder me", "stop met mailen",
        "geen e-mails meer", "geen mails meer", "niet meer mailen",
    )
)  # fmt: skip
_BARE = re.compile(r"^(?:re:\s*)?(?:unsubscribe|stop|remove|abmelden|desinscrire|baja|afmelden)$")


def unsubscribe_request(subject: str, reply: str) -> str | None:
    """What in ``subject`` or ``reply`` asks to stop (the evidence), or None."""
    folded_subject = fold(subject)
    if _BARE.match(folded_subject):
        return f"subject {subject[:80]!r}"
    folded = fold(reply)
    if len(folded) > MAX_REQUEST_CHARS:
        return None
    if _BARE.match(folded.strip(" .!")):
        return f"text {reply.strip()[:80]!r}"
    for phrase in _PHRASES:
        if phrase in folded:
            return f"text {phrase!r}"
    return None
