"""Document-signature methods (``register_signature_methods``), one plugin each."""
