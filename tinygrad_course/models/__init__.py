"""Whole models from the curriculum, one file each, built from nn layers.

    perceptron.py   Rosenblatt's perceptron (step activation, learning rule) and the MLP
    gpt.py          GPT: a decoder-only (causal) transformer language model, char-level
    bert.py         BERT: a bidirectional transformer trained as a masked language model
    vit.py          ViT: the Vision Transformer (patches, CLS token, position embeddings)
    cnn.py          LeNet: a convolutional network (conv, ReLU, max pooling) for images
    vqvae.py        VQ-VAE: conv encoder/decoder, a codebook, straight-through estimator
    clip.py         a tiny CLIP: two encoders, a joint space, symmetric InfoNCE, zero-shot
    fusion.py       token encoders and a cross-attention fusion encoder (text attends to patches)
    albef.py        ALBEF: ITC + ITM with hard negatives + MLM, momentum distillation
    vilt.py         ViLT: one single-stream transformer over words and patches (ITM + MLM)
    vlmo.py         VLMo: mixture of modality experts, one model as dual and fusion encoder
    seq2seq.py      encoder-decoder (GRU/LSTM), with and without additive attention
    text_cnn.py     text CNN (convolution + max over time) and a bag-of-words baseline
    ngram_lm.py     n-gram language models: neural (Bengio 2003), Kneser-Ney, add-k
    word2vec.py     skip-gram and CBOW with negative sampling; word vectors and their queries

Import them from their file, e.g. ``from tinygrad_course.models.perceptron import MLP``.
"""
