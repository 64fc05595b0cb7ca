"""colorpast: colorize black-and-white photographs.

Public API (the rest is private by convention):
    colorpast.colorize(image, model, hints=...)  full-resolution colorization, RGB out; hints: colours you know
    colorpast.models.build(name, ...)     the registered models ("seed16")
    colorpast.color.rgb_to_lab / lab_to_rgb
"""

from colorpast.version import __version__  # noqa: F401 - the one place it is written


def colorize(image, model, size=None, hints=None, **decode):
    """Colorize ``image`` (a path or an array) with ``model``, optionally with colour
    ``hints`` (points or a scribble); see :func:`colorpast.colorizer.colorize`."""
    from colorpast.colorizer import colorize as _colorize

    return _colorize(image, model, size=size, hints=hints, **decode)
