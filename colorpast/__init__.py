"""colorpast: colorize black-and-white photographs.

Public API (the rest is private by convention):
    colorpast.colorize(image, model)      full-resolution colorization, RGB out
    colorpast.models.build(name, ...)     the registered models ("seed16")
    colorpast.color.rgb_to_lab / lab_to_rgb
"""

from colorpast.version import __version__  # noqa: F401 - the one place it is written


def colorize(image, model, size=None):
    """Colorize ``image`` (array) with ``model``; see :func:`colorpast.colorizer.colorize`."""
    from colorpast.colorizer import colorize as _colorize

    return _colorize(image, model, size=size)
