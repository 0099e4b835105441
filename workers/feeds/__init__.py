"""OPD and national feed pullers: Open311, BMKG, CAP, FHIR, ASN attendance, DLH trips."""
