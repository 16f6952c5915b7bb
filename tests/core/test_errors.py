from pathlib import Path

import pytest

from core import errors


def test_message_names_the_file_the_reason_and_the_remedy():
    err = errors.CorruptFileError("JPEG data ends early", path=Path("/data/IMG_1.jpg"))
    text = str(err)
    assert text.startswith("/data/IMG_1.jpg: JPEG data ends early.")
    assert "re-export" in text


def test_hint_can_be_replaced():
    err = errors.PackError("weights.safetensors has the wrong sha256", hint="Rebuild the pack.")
    assert str(err) == "weights.safetensors has the wrong sha256. Rebuild the pack."


@pytest.mark.parametrize(
    "cls", [errors.UnsupportedFileError, errors.CorruptFileError, errors.InputTooLargeError,
            errors.EmptyInputError, errors.PackError, errors.LibraryError,
            errors.ResourceUnavailableError, errors.UsageError, errors.Cancelled],
)
def test_every_error_is_an_mcr_error_with_an_exit_code(cls):
    err = cls("something")
    assert isinstance(err, errors.MCRError)
    assert err.exit_code != 0


def test_exit_codes_tell_kinds_apart():
    codes = {errors.UsageError.exit_code, errors.PackError.exit_code,
             errors.LibraryError.exit_code, errors.Cancelled.exit_code}
    assert len(codes) == 4
