"""CLI verbs whose working modules import TensorFlow when imported: the argument
definitions live here so that ``colorpast --help`` stays fast."""
