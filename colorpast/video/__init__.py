"""Films: a video in, a colour video out, frame by frame in a stream, sound kept.

The room beside ``colorizer`` (photos), in the same stages as the rest of the package:

- ``reader``, ``writer``: film files in and out (FFmpeg's libraries through PyAV);
- ``flow``: optical flow between frames, where it holds, scene cuts (OpenCV);
- ``points``: colour hints given on a frame, carried through their shot;
- ``carry``: the film colorizer, colour carried along the flow between the model's frames;
- ``film``: ``colorize_film``, the whole job: resumable, a progress bar, the sound;
- ``measure``, ``evaluate``: flicker measured against the true video's own.

Importing this package imports none of them (the command line stays light).
"""
