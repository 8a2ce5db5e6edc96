"""A plausible, seeded music catalog, so a scenario need not list hundreds of tracks."""

import random

_ADJECTIVES = [
    "Amber",
    "Blue",
    "Broken",
    "Burning",
    "Crimson",
    "Distant",
    "Electric",
    "Empty",
    "Endless",
    "Fading",
    "Faded",
    "Frozen",
    "Gentle",
    "Golden",
    "Hollow",
    "Hidden",
    "Last",
    "Late",
    "Little",
    "Lonely",
    "Lost",
    "Midnight",
    "Neon",
    "Northern",
    "Paper",
    "Quiet",
    "Restless",
    "Rising",
    "Scarlet",
    "Secret",
    "Silent",
    "Silver",
    "Slow",
    "Southern",
    "Static",
    "Summer",
    "Sweet",
    "Velvet",
    "Wild",
    "Winter",
    "Young",
]
_NOUNS = [
    "Avenue",
    "Bridges",
    "Cities",
    "Clouds",
    "Coast",
    "Dancer",
    "Dreams",
    "Echoes",
    "Embers",
    "Fever",
    "Fields",
    "Fire",
    "Garden",
    "Ghosts",
    "Harbor",
    "Heart",
    "Highway",
    "Horizon",
    "Island",
    "Lights",
    "Lines",
    "Machine",
    "Mirrors",
    "Moon",
    "Morning",
    "Motel",
    "Ocean",
    "Parade",
    "Radio",
    "Rain",
    "River",
    "Rooms",
    "Satellite",
    "Shadows",
    "Signals",
    "Sky",
    "Stars",
    "Station",
    "Streets",
    "Summer",
    "Thunder",
    "Tides",
    "Towers",
    "Valley",
    "Waves",
    "Window",
    "Wires",
]
_FIRST = [
    "Ada",
    "Aiko",
    "Amara",
    "Ana",
    "Bo",
    "Cleo",
    "Dario",
    "Elif",
    "Esme",
    "Farah",
    "Felix",
    "Hana",
    "Ines",
    "Ivo",
    "Jonas",
    "Kai",
    "Lena",
    "Leon",
    "Lior",
    "Maya",
    "Mika",
    "Nadia",
    "Noor",
    "Omar",
    "Priya",
    "Rafa",
    "Rosa",
    "Sami",
    "Sol",
    "Tariq",
    "Uma",
    "Vera",
    "Yara",
    "Zoe",
]
_LAST = [
    "Andersen",
    "Bakker",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Farouk",
    "Garcia",
    "Haddad",
    "Ibarra",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Silva",
    "Tanaka",
    "Umar",
    "Varga",
    "Weber",
    "Yilmaz",
]
_BAND_WORDS = ("Collective", "Orchestra", "Club", "Society", "Machines", "Brothers", "Sisters")


def _artist(rng: random.Random) -> str:
    style = rng.random()
    if style < 0.45:
        return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
    if style < 0.8:
        return f"The {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
    return f"{rng.choice(_NOUNS)} {rng.choice(_BAND_WORDS)}"


def _title(rng: random.Random) -> str:
    style = rng.random()
    if style < 0.5:
        return f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
    if style < 0.75:
        return f"{rng.choice(_NOUNS)} of {rng.choice(_NOUNS)}"
    if style < 0.9:
        return rng.choice(_NOUNS)
    return f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} ({rng.choice(['Live', 'Edit', 'Remix'])})"


def generate_catalog(count: int, rng: random.Random) -> list[dict[str, object]]:
    """``count`` tracks grouped into albums by artists; durations 2:10 to about 7:00.

    Each track is ``{"key", "title", "artist", "album", "duration_ms"}``; keys are
    ``gen-0001`` onwards so scenarios can name generated tracks too.
    """
    tracks: list[dict[str, object]] = []
    while len(tracks) < count:
        artist = _artist(rng)
        for _ in range(rng.randint(1, 3)):
            album = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
            for _ in range(rng.randint(6, 12)):
                if len(tracks) == count:
                    return tracks
                # Most songs run about three minutes; a long tail reaches seven.
                seconds = rng.triangular(130.0, 425.0, 180.0)
                tracks.append(
                    {
                        "key": f"gen-{len(tracks) + 1:04d}",
                        "title": _title(rng),
                        "artist": artist,
                        "album": album,
                        "duration_ms": round(seconds * 10) * 100,
                    }
                )
    return tracks
