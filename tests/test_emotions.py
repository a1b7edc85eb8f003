"""Emotion inventories: parsing, standard codes, and the refusals a user meets."""

import pytest

from toolkit.emotions import CHALLENGE, Inventory, canonical_order
from toolkit.utils.errors import ToolkitError


def test_the_challenge_inventory_is_the_default_order_ashufdcn():
    assert "".join(CHALLENGE.codes) == "ASHUFDCN"
    assert CHALLENGE.soft_columns[0] == "soft_A" and CHALLENGE.logit_columns[-1] == "logit_N"
    assert CHALLENGE.name_of("C") == "Contempt"


@pytest.mark.parametrize("spec, codes, names", [
    ("A,S,H,N", ("A", "S", "H", "N"), ("Anger", "Sadness", "Happiness", "Neutral")),
    ("A Anger, S Sadness, H Happiness, N Neutral", ("A", "S", "H", "N"), ("Anger", "Sadness", "Happiness", "Neutral")),
    ("N:Neutral,K:Calm", ("N", "K"), ("Neutral", "Calm")),
    ("anger, calm, boredom", ("A", "K", "B"), ("Anger", "Calm", "Boredom")),
    ("P Pleasant surprise, N", ("P", "N"), ("Pleasant surprise", "Neutral")),
])
def test_parse_accepts_codes_names_and_new_classes(spec, codes, names):
    inventory = Inventory.parse(spec)
    assert inventory.codes == codes and inventory.names == names
    assert Inventory.parse(inventory.describe()) == inventory
    assert Inventory.from_list(inventory.to_list(), "x") == inventory


@pytest.mark.parametrize("spec, message", [
    ("A", "at least 2 classes"),
    ("A,A,S", "listed more than once"),
    ("A,O", "never a target class"),
    ("A,s", "must be an upper-case letter"),
    ("", "no classes"),
])
def test_bad_inventories_are_refused_with_the_reason(spec, message):
    with pytest.raises(ToolkitError, match=message):
        Inventory.parse(spec)


def test_index_is_minus_one_outside_the_inventory_and_canonical_order_puts_standard_codes_first():
    four = Inventory.parse("A,S,H,N")
    assert four.index("H") == 2 and four.index("U") == -1 and four.index("X") == -1
    assert canonical_order(["P", "N", "K", "A", "N"]) == ["A", "N", "K", "P"]
