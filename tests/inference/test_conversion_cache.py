"""The conversion cache: an entry is used only if it matches the size and checksum recorded at its conversion."""

import json
import warnings

import pytest

from hinet_tf.inference import conversion_cache
from hinet_tf.inference.errors import ConversionError
from hinet_tf.inference.conversion_cache import cached_conversion


class Converter:
    """Writes a model file of fixed bytes and counts its calls."""

    def __init__(self, data=b"model bytes " * 100):
        self.data = data
        self.calls = 0

    def __call__(self, path):
        self.calls += 1
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.data)


def convert(path, converter, derived=()):
    messages = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cached_conversion(path, converter, "Test", "converting", messages.append, derived)
    return messages, [str(warning.message) for warning in caught]


def test_an_entry_is_converted_once_and_recorded(tmp_path):
    path, converter = tmp_path / "cache" / "key.onnx", Converter()
    assert convert(path, converter) == (["converting"], [])
    record = json.loads(conversion_cache.record_path(path).read_text())
    assert record["size"] == len(converter.data) and len(record["sha256"]) == 64
    assert convert(path, converter) == ([], [])
    assert converter.calls == 1


def truncate(path):
    path.write_bytes(path.read_bytes()[:100])


def flip_a_byte(path):
    data = bytearray(path.read_bytes())
    data[500] ^= 0xFF
    path.write_bytes(bytes(data))


def delete_the_record(path):
    conversion_cache.record_path(path).unlink()


def damage_the_record(path):
    conversion_cache.record_path(path).write_text('{"size": ')


def delete_the_model(path):
    path.unlink()


@pytest.mark.parametrize(
    "damage, problem",
    [
        (truncate, "is 100 bytes, not the 1,200 recorded"),
        (flip_a_byte, "does not match its recorded checksum"),
        (delete_the_record, "has no record of its size and checksum"),
        (damage_the_record, "has a damaged record of its size and checksum"),
        (delete_the_model, "is missing"),
    ],
)
def test_a_bad_entry_is_deleted_and_converted_again_with_one_warning(tmp_path, damage, problem):
    path, converter = tmp_path / "key.tflite", Converter()
    derived = tmp_path / "key.xnnpack_cache"
    convert(path, converter)
    derived.write_bytes(b"packed weights of the old file")
    damage(path)
    messages, warned = convert(path, converter, [derived])
    assert warned == [f"the cached conversion {path} {problem}; converting it again"]
    assert messages == ["converting"] and converter.calls == 2
    assert path.read_bytes() == converter.data and not derived.exists()
    assert convert(path, converter) == ([], [])  # the new entry is recorded


def test_a_failed_conversion_names_the_converter_and_records_nothing(tmp_path):
    def failing(path):
        raise RuntimeError("no converter")

    path = tmp_path / "key.onnx"
    with pytest.raises(ConversionError, match="^Test conversion failed: no converter$"):
        cached_conversion(path, failing, "Test", "converting")
    assert list(tmp_path.iterdir()) == []


def test_a_derived_file_is_kept_only_while_it_matches_its_record(tmp_path):
    weights = tmp_path / "key.xnnpack_cache"
    weights.write_bytes(b"packed weights")
    conversion_cache.drop_unless_recorded(weights)
    assert not weights.exists()  # never recorded: XNNPACK may have been killed while writing it
    weights.write_bytes(b"packed weights")
    conversion_cache.record_entry(weights)
    conversion_cache.drop_unless_recorded(weights)
    assert weights.read_bytes() == b"packed weights"
    weights.write_bytes(b"packed weighTs")
    conversion_cache.drop_unless_recorded(weights)
    assert not weights.exists() and not conversion_cache.record_path(weights).exists()
