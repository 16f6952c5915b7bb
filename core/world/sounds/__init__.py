"""Procedural recordings of the factory world's parts and machines.

A recording is the family's machine sound (shared by all of its conditions), altered by the
condition's signature (shared by all families), at a random pitch, level and onset, over a
factory background at a random signal-to-noise ratio, through a random microphone colour.
The decisive content stays below about 7 kHz so that it survives resampling to 16 kHz.

All randomness comes from the caller's generator. The nuisance is drawn first and a
family's draws do not depend on the condition, so one seed renders the same background,
microphone, levels and machine for every condition of a family: only the signature differs.

Speed: tones below a few hundred hertz and slow modulators are computed on a coarse grid
and filled in linearly; steady noise is shaped and mixed in the frequency domain, together
with the microphone colour, so that a recording costs a handful of FFTs and array passes.

Layout: `scene` (a recording's shared clock, coarse curves and white noise source),
`sources` (harmonic tones and struck events on that clock), `noise` (amplitude responses and
noise shaped in the frequency domain), `families` (one machine sound per family),
`conditions` (one signature per condition) and `mixing` (background, microphone, onset, and
`synth_sound`, which puts them together).
"""

from core.world.sounds.mixing import RATE, synth_sound

__all__ = ["RATE", "synth_sound"]
