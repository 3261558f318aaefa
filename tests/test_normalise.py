import pytest

from litrev.normalise import normalise_doi, normalise_title, strip_markup


@pytest.mark.parametrize("raw,expected", [
    ("https://doi.org/10.1016/J.JSAT.2016.01.003", "10.1016/j.jsat.2016.01.003"),
    ("http://dx.doi.org/10.3389/fpsyg.2019.01052", "10.3389/fpsyg.2019.01052"),
    ("doi: 10.1000/xyz.", "10.1000/xyz"),
    ("not a doi", None),
    ("", None),
    (None, None),
])
def test_normalise_doi(raw, expected):
    assert normalise_doi(raw) == expected


def test_normalise_title_folds_markup_accents_and_punctuation():
    assert normalise_title("<i>Peer</i> mentors &amp; recovery: a Café study!") == \
        "peer mentors recovery a cafe study"


def test_strip_markup_jats():
    jats = "<jats:p>Peer <jats:italic>support</jats:italic> works.</jats:p>"
    assert strip_markup(jats) == "Peer support works."
