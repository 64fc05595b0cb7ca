"""A tiny registered model for the tests of the training loop (see register_small)."""


def register_small(name: str = "test_small", hints: bool = False) -> str:
    """Register a model of two small convolutions under a float32 tanh head (with
    ``hints``, taking ``[L, hint map]`` as every hint model does): for tests of the
    training loop, resume and hints, where the network is not what is tested and seed16's
    sixteen layers would take most of their time. conftest's fixtures (small_model,
    small_hint_model) remove it after the test; a subprocess registers it with this
    before it runs the CLI (this module imports nothing of the test sandbox's)."""
    import keras
    from keras import layers

    from colorpast.models import registry

    def build(input_shape=(None, None, 1), name=name):
        L = keras.Input(shape=input_shape, name="L")
        inputs = [L, keras.Input(shape=(*input_shape[:2], 3), name="hints")] if hints else L
        x = layers.Concatenate()(inputs) if hints else L
        x = layers.Conv2D(8, 3, padding="same", activation="relu")(x)
        x = layers.Conv2D(8, 3, padding="same", activation="relu")(x)
        return keras.Model(inputs, layers.Conv2D(2, 3, padding="same", activation="tanh", dtype="float32")(x), name=name)

    registry.register_regression(name, build, "two convolutions: tests of the loop only", hints=hints)
    return name
