"""Friendly run names ("brisk-heron-42") for runs the user did not name: easier to say than ids."""

import random

_ADJECTIVES = (
    "amber agile bold brave bright brisk calm clever crisp daring eager fast fierce gentle "
    "glad grand keen kind lively lucid merry nimble noble polite proud quick quiet rapid "
    "sharp shy silent sleek smart snappy steady sunny swift tidy vivid warm wise witty zesty"
).split()
_NOUNS = (
    "albatross auk bittern booby cormorant crane curlew dunlin egret eider fulmar gannet "
    "grebe guillemot gull heron ibis kittiwake knot loon merganser murre osprey pelican "
    "petrel plover puffin razorbill sanderling scoter shag shearwater skua stork tern "
    "turnstone"
).split()


def run_name() -> str:
    return f"{random.choice(_ADJECTIVES)}-{random.choice(_NOUNS)}-{random.randint(1, 999)}"
