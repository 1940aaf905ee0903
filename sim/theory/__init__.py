"""Floor 5: closed-form checks of the model (the suite behind ``pxsim check``).

``verdicts`` judges a simulated value against theory and formats the verdict, ``worlds``
builds the stripped-down scenarios, ``checks`` holds the check functions and ``suite`` the
registry and ``run_checks``. Import from those modules: this package exports nothing.
"""
