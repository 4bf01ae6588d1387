"""Sequence labelling (NER, POS): window MLP, (Bi)RNN/LSTM/GRU taggers, character encoders, CRF."""
