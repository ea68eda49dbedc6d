"""One runnable script per idea of the course; ``python -m demos`` runs them all in --quick mode.

Each demo module has ``main(argv=None)`` that prints what it measured and returns it as a dict.
``DEMOS`` lists them in the order of the course.
"""

DEMOS = [
    "autograd_basics",
    "perceptron",
    "sigmoid_temperature",
    "losses",
    "mlp_digits",
    "schedules",
    "linear_scaling",
    "multiclass_strategies",
    "regression_as_classification",
    "discriminative_generative",
    "text_retrieval",
    "ngram_lm",
    "word2vec",
    "vanishing_gradients",
    "long_memory",
    "seq2seq_attention",
    "text_cnn",
    "attention_scaling",
    "gpt_chars",
    "bert_mlm",
    "vit_digits",
    "clip_shapes",
]
