"""The command line's verbs, one module each (``colorpast.cli`` lists them in VERBS).

A verb module defines HELP, DESCRIPTION, add_arguments(parser) and run(args) -> exit
code, and does no work of its own: run() turns the arguments into one call of the
package and prints the result. It imports its working module (and with it TensorFlow
and Keras) inside run(), so that ``colorpast --help`` and ``colorpast VERB --help`` stay
fast; a module that needs a constant for its help (download's aliases, weights'
releases) imports it at the top from a working module that does not import Keras there.
"""
