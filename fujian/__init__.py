"""fujian (府检): a command-line case tracker for government–procuratorate linkage (府检联动)."""

__version__ = "0.1.0"
