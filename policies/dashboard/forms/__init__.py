"""The dashboard's policy form: the form, what its boxes send, how it reads them and maps a payload back."""
