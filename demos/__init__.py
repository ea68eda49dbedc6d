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
    "noisy_channel",
    "word2vec",
    "word2vec_variants",
    "vanishing_gradients",
    "long_memory",
    "seq2seq_attention",
    "proper_nouns",
    "elmo_contexts",
    "text_cnn",
    "attention_scaling",
    "gpt_chars",
    "pretrained_gpt2",
    "bert_mlm",
    "bert_nsp",
    "vit_digits",
    "cnn_digits",
    "vqvae_digits",
    "vq_prior",
    "clip_shapes",
    "siglip_vs_softmax",
    "clip_vs_fusion",
    "albef_ablation",
    "vilt_vs_albef",
    "vlmo_modes",
    "blip_capfilt",
    "coca_tradeoff",
    "caption_samples",
    "lora_finetune",
    "connectors_vqa",
    "any_resolution",
    "compile_fusion",
]

# Distributed training on MPI: each runs under mpiexec with the ranks it is meant for
# (``mpiexec -n 2 python -m demos.data_parallel``) and needs the distributed extra. They are
# not in the plain tour: with one process there is no communication to show. Their claims are
# checked under mpiexec by tests/test_distributed.py.
MPI_DEMOS = {"data_parallel": 2, "tensor_parallel": 2, "pipeline_parallel": 4, "zero_memory": 4}
