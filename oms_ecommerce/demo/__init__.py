"""Demo data: XML records and, in ``generators``, the Python that builds demo orders in every step.

Nothing here is imported when the addon loads: the demo XML calls ``oms.channel._oms_demo_generate``,
which imports the generators only then."""
