"""The configuration's lookups."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from rules.config import BlocConfig
from tests.rules.factories import seed_config


def with_indicators(*indicators: tuple[str, str]) -> BlocConfig:
    """The seed's bloc with the given (code, unit) indicators, all feeding criterion I.1."""
    data: dict[str, Any] = seed_config().model_dump(mode="json")
    data["indicators"] = [
        {"code": code, "unit": unit, "criterion": "I.1", "text": "Số hộ", "measure": "hộ", "target": "100"}
        for code, unit in indicators
    ]
    return BlocConfig.model_validate(data, context={"stored": True})


def test_indicators_of_gives_a_units_own_in_file_order() -> None:
    config = with_indicators(("X2", "SCT"), ("Y1", "SXD"), ("X1", "SCT"), ("X3", "SCT"))
    assert [indicator.code for indicator in config.indicators_of("SCT")] == ["X2", "X1", "X3"]
    assert [indicator.code for indicator in config.indicators_of("SXD")] == ["Y1"]
    assert config.indicators_of("STTTT") == []
    assert config.indicators_of("NOPE") == []


def test_indicators_of_gives_a_list_of_the_callers_own() -> None:
    config = with_indicators(("X1", "SCT"))
    config.indicators_of("SCT").clear()
    assert [indicator.code for indicator in config.indicators_of("SCT")] == ["X1"]


def test_a_copied_config_keeps_its_index() -> None:
    config = with_indicators(("X1", "SCT"))
    assert [indicator.code for indicator in config.model_copy().indicators_of("SCT")] == ["X1"]


def test_an_indicators_plausible_limit() -> None:
    """Issue 16: 100 times the target by default, configurable per bloc, overridden per indicator."""
    config = with_indicators(("X1", "SCT"))
    indicator = config.indicators_of("SCT")[0]
    assert config.actual_limit(indicator) == Decimal(10000)
    data: dict[str, Any] = config.model_dump(mode="json")
    data["reporting"] = {"max_times_target": "20"}
    data["indicators"][0]["target"] = "0"
    changed = BlocConfig.model_validate(data, context={"stored": True})
    assert changed.actual_limit(changed.indicators_of("SCT")[0]) == Decimal(20)  # a target of 0 counts as 1
    data["indicators"][0]["max_actual"] = "5"
    own = BlocConfig.model_validate(data, context={"stored": True})
    assert own.actual_limit(own.indicators_of("SCT")[0]) == Decimal(5)
    data["reporting"] = {"max_times_target": "1"}
    with pytest.raises(ValidationError, match="max_times_target"):
        BlocConfig.model_validate(data, context={"stored": True})


def test_names_and_texts_have_maxima_and_figures_a_digit_cap() -> None:
    """Issue 16: a 30 MB bloc name and a 60-digit target are refused when the file is validated."""
    data: dict[str, Any] = seed_config().model_dump(mode="json")
    data["bloc"]["name"] = "K" * (30 * 1024 * 1024)
    with pytest.raises(ValidationError, match="bloc.name"):
        BlocConfig.model_validate(data, context={"stored": True})
    data = seed_config().model_dump(mode="json")
    data["indicators"][0]["target"] = 10**59
    with pytest.raises(ValidationError, match="at most 15 digits"):
        BlocConfig.model_validate(data, context={"stored": True})


def test_a_bloc_names_its_bot_per_channel_and_a_number_is_the_same_id() -> None:
    import pytest
    from pydantic import ValidationError

    from tests.factories import seed_bloc, seed_bloc_data

    bloc = seed_bloc_data()["bloc"]
    config = seed_bloc(bloc={**bloc, "bots": {"telegram": 7012345678, "zalo": "1459232241454765289"}})
    assert dict(config.bloc.bots) == {"telegram": "7012345678", "zalo": "1459232241454765289"}
    assert dict(seed_bloc().bloc.bots) == {}
    with pytest.raises(ValidationError, match="bots"):
        seed_bloc(bloc={**bloc, "bots": {"signal": "1"}})
