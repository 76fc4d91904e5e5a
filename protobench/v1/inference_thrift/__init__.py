__all__ = ['ttypes', 'constants', 'InferenceService']
