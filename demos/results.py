"""The demos' measured numbers, written by a full run and never typed by hand.

    python -m demos --full --write-results          run every demo at full size, record all
    python -m demos NAME --full --write-results     rerun one demo, merge its entry
    python -m demos.results                         regenerate the pages from the JSON only

A full run with --write-results stores, per demo, what its ``main()`` returned (the same dict
the tour prints), its run time, the date and the machine (cores, BLAS, NumPy) in
demos/RESULTS.json. Everything a reader sees is generated from that file:

    demos/RESULTS.md    every demo's values, run time, date and machine
    demos/GALLERY.md    every figure the demos saved (copied to demos/figures/), one line each
                        saying what to look at
    README.md           the demo table between the markers BEGIN and END below

The README row of a demo is the template ``ROWS[name]`` with its placeholders filled from the
recorded values: ``{key}``, ``{key:.1%}`` (a format spec), ``{a/b/c:.3f}`` for nested dicts
(a key may hold ":", as in an analogy "man:woman:king:queen"), and ``{key|min:.1%}``,
``{key|max}``, ``{key|len}``, ``{key|first}``, ``{key|last}`` over a list, ``{key|half}`` of a
count. tests/test_demo_results.py checks that README.md's table is exactly
``readme_table(load())``, so a number in the README cannot differ from the measured one.
A demo in ``demos.DEMOS`` with no recorded full run is shown as such in its row (never with
numbers); a row whose template names a value its recorded run lacks (a metric added since)
says that run predates it, and a test fails until the demo is rerun.
"""

import datetime
import json
import math
import os
import platform
import re
import shutil

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS_JSON = os.path.join(HERE, "RESULTS.json")
RESULTS_MD = os.path.join(HERE, "RESULTS.md")
GALLERY_MD = os.path.join(HERE, "GALLERY.md")
FIGURES_DIR = os.path.join(HERE, "figures")
README = os.path.join(os.path.dirname(HERE), "README.md")
BEGIN, END = "<!-- demo-table:begin -->", "<!-- demo-table:end -->"

# One README row per demo: what it shows, with every number a placeholder for a measured value.
ROWS = {
    "autograd_basics":
        "backward and a Hessian-vector product (create_graph) against central finite "
        "differences: max error {grad_max_error:.1e} and {hvp_max_error:.1e} at the usual steps "
        "(1e-6, 1e-5), {grad_best_error:.1e} and {hvp_best_error:.1e} at the best step; the "
        "figure shows the error is the finite differences' (truncation vs rounding), not "
        "backward's",
    "perceptron":
        "Rosenblatt's rule converges on separable data in {separable_updates} updates "
        "(Novikoff's bound {novikoff_bound:,.0f}); no perceptron gets XOR (best "
        "{xor_perceptron_best_accuracy:.2f}, where 0.75 is the best a line can do); an MLP fits "
        "it (test {xor_mlp_test_accuracy:.2f})",
    "sigmoid_temperature":
        "the gap between sigmoid(x/tau) and the step is exactly sigma(-delta/tau) (to "
        "{max_gap_vs_closed_form:.0e}): {gap_tau_1:.3f} at tau=1, {gap_tau_0.01:.1e} at "
        "tau=0.01",
    "losses":
        "CE = H + KL to {ce_minus_h_plus_kl:.0e}; KL >= 0; the best constant under MSE is the "
        "mean ({mse_constant:.2f}), under MAE the median ({mae_constant:.2f})",
    "mlp_digits":
        "MLP + SGD momentum + cosine schedule: {test_accuracy:.1%} held-out accuracy on 8x8 "
        "digits (mean of {seeds} seeds, {min_test_accuracy:.1%}-{max_test_accuracy:.1%}); on "
        "the same splits softmax regression gets {linear_test_accuracy:.1%} and the "
        "1-nearest-neighbour rule {nearest_neighbour_test_accuracy:.1%}",
    "schedules":
        "MLP on spirals, mean of 3 seeds, final training loss / test accuracy: constant rate "
        "{constant_final_loss:.3f} / {constant_test_accuracy:.1%} (it bounces to the end: "
        "{constant_final_loss_per_seed|min:.3f}-{constant_final_loss_per_seed|max:.3f} by "
        "seed), step "
        "{step_final_loss:.3f} / {step_test_accuracy:.1%}, linear {linear_final_loss:.4f} / "
        "{linear_test_accuracy:.1%}, cosine {cosine_final_loss:.4f} / "
        "{cosine_test_accuracy:.1%}, warmup + cosine {warmup+cosine_final_loss:.4f} / "
        "{warmup+cosine_test_accuracy:.1%}",
    "linear_scaling":
        "(kB, k*lr) follows the (B, lr) loss curve (distance {k4_scaled_distance:.2f} at k=4) "
        "where (kB, lr) does not ({k4_unscaled_distance:.2f}); the rule weakens at k=16 "
        "({k16_scaled_distance:.2f} vs {k16_unscaled_distance:.2f})",
    "multiclass_strategies":
        "one-vs-rest leaves {ovr_undefined_fraction:.0%} of the plane undefined, one-vs-one "
        "{ovo_undefined_fraction:.1%}, softmax {softmax_undefined_fraction:.0%}; test accuracy "
        "{ovr_test_accuracy:.3f} / {ovo_test_accuracy:.3f} / {softmax_test_accuracy:.3f}",
    "regression_as_classification":
        "a byte-classification head beats an MSE head when the target has two valid answers "
        "(median error {pm_byte_head_median_error:.0e} vs {pm_mse_head_median_error:.2f}) and "
        "loses on a plain function ({sqrt_byte_head_median_error:.0e} vs "
        "{sqrt_mse_head_median_error:.0e})",
    "discriminative_generative":
        "features independent given the class (the Gaussian model's assumption holds): the "
        "generative fit is ahead at {independent_generative_ahead} examples per class (sizes "
        "{sizes_per_class|first} to {sizes_per_class|last} tried); at {sizes_per_class|first} "
        "per class logistic regression is ahead ({independent_logistic_at_smallest:.3f} vs "
        "{independent_generative_at_smallest:.3f}); both end near Bayes "
        "({independent_generative_largest:.3f} and {independent_logistic_largest:.3f} vs "
        "{independent_bayes:.3f}). Correlated features: logistic regression "
        "ahead at every size and ends at {correlated_logistic_largest:.3f} vs "
        "{correlated_generative_largest:.3f} (Bayes {correlated_bayes:.3f})",
    "text_retrieval":
        "4-word queries over {verses:,} KJV verses: recall@1 TF-IDF "
        "{TF-IDF/recall@1:.2f} vs bag of words {bag of words/recall@1:.2f}, hashing into 2^14 "
        "columns {hashing (2^14)/recall@1:.2f}, into 2^8 {hashing (2^8)/recall@1:.2f} (random "
        "ranking {recall1_chance:.0e}); same book among the 10 nearest verses: TF-IDF "
        "{TF-IDF/same_book@10:.2f}, random {same_book_chance:.2f}",
    "ngram_lm":
        "held-out perplexity: add-one 4-gram {test_perplexity/add-one 4-gram:.0f}, Kneser-Ney "
        "4-gram {test_perplexity/Kneser-Ney 4-gram:.1f}, neural 4-gram "
        "{test_perplexity/neural 4-gram:.1f}, neural + Kneser-Ney "
        "{test_perplexity/neural + Kneser-Ney 4-gram:.1f}",
    "word2vec":
        "skip-gram on the KJV: gold -> {neighbours/gold|first}; sheep -> "
        "{neighbours/sheep|first}; jesus -> {neighbours/jesus|first}; related pairs' median rank "
        "among {vocab_size:,} words: skip-gram {related_pair_median_rank:.0f}, CBOW "
        "{cbow_related_pair_median_rank:.0f} (a random word: ~{vocab_size|half:,}); king-prince "
        "(ranks {related_pair_rank/king-prince} and {cbow_related_pair_rank/king-prince}) pairs a "
        "word of {related_pair_counts/king-prince|first:,} uses with one of "
        "{related_pair_counts/king-prince|last:,}, mostly the title 'prince of' (see the "
        "demo's docstring); man:woman = "
        "king:? puts queen at rank {analogy_ranks/man:woman:king:queen}. Final loss batch 4096 "
        "{skipgram_final_loss:.3f}, batch 16384 {batch_16384/final_loss:.3f}; "
        "{skipgram_words_per_second:,.0f} words/s (gensim comparison: benchmarks/README.md)",
    "vanishing_gradients":
        "gradient norm {distance} steps back over the last step's, at init: RNN "
        "{rnn_init_kept:.1e}, LSTM {lstm_init_kept:.1e}, GRU {gru_init_kept:.1e}; with a "
        "forget-gate bias of 5 {lstm_forget5_kept:.2f} (LSTM), an update-gate bias of 5 "
        "{gru_update5_kept:.2f} (GRU): no vanishing; an RNN with W_hh = 2 x orthogonal "
        "{rnn_gamma2_kept:.1e} (exploding)",
    "long_memory":
        "adding problem, T={length}: worst of the runs' test MSE: LSTM {lstm_mse:.3f}, GRU "
        "{gru_mse:.3f}, plain RNN {rnn_mse:.3f} (guessing: 1/6 = 0.167)",
    "seq2seq_attention":
        "reversing strings up to length {max_len}: exact match {gru_plain_exact_match:.2f} "
        "without attention, {gru_attention_exact_match:.2f} with (GRU; "
        "{gru_plain_longest:.2f} vs {gru_attention_longest:.2f} at length {max_len}); LSTM "
        "{lstm_plain_exact_match:.2f} vs {lstm_attention_exact_match:.2f}",
    "text_cnn":
        "negation task: bag of words {bag_of_words_test:.2f} (an order-blind rule's ceiling "
        "{order_blind_ceiling:.2f}), a text CNN {text_cnn_test:.2f}",
    "attention_scaling":
        "as d_k grows {dims|first} -> {dims|last}, without 1/sqrt(d_k) the attention entropy "
        "falls {unscaled/entropy|first:.2f} -> {unscaled/entropy|last:.2f} nats and the score "
        "gradient {unscaled/grad_scores|first:.1e} -> {unscaled/grad_scores|last:.1e}; with it "
        "{scaled/entropy|first:.2f} -> {scaled/entropy|last:.2f} nats, "
        "{scaled/grad_scores|first:.1e} -> {scaled/grad_scores|last:.1e} (uniform: "
        "{max_entropy:.2f} nats)",
    "gpt_chars":
        "char GPT on the King James Bible, whole held-out text: {gpt_bits_per_char:.2f} "
        "bits/char vs {ngram_bits_per_char:.2f} for a Kneser-Ney character {ngram_order}-gram "
        "(bigram {bigram_loss:.2f} nats/char); sampled words that are words of the text: GPT "
        "{gpt_word_share:.0%}, {ngram_order}-gram {ngram_word_share:.0%}, bigram "
        "{bigram_word_share:.0%}; sampled word pairs that occur in the text: GPT "
        "{gpt_word_bigram_share:.0%}, {ngram_order}-gram {ngram_word_bigram_share:.0%}",
    "bert_mlm":
        "masked characters: {accuracy:.0%} correct vs {baselines/both_neighbours:.0%} for the "
        "best count baseline using both neighbours",
    "noisy_channel":
        "garbled KJV verses (word error rate {garbled_wer:.3f}): the learned channel alone "
        "decodes to {channel_alone:.3f}; with a Kneser-Ney trigram LM {best_wer:.3f} (lambda "
        "{best_lm_weight}, beam {best_beam}); the best possible with the candidates "
        "{oracle_wer:.3f}",
    "proper_nouns":
        "lower-cased KJV, which words are proper nouns, test F1 (all / ambiguous words): "
        "each word's majority label {lookup/f1:.3f} / {lookup/ambiguous_f1:.3f}, LSTM "
        "{LSTM/f1:.3f} / {LSTM/ambiguous_f1:.3f}, BiLSTM {BiLSTM/f1:.3f} / "
        "{BiLSTM/ambiguous_f1:.3f}, BiLSTM-CRF {BiLSTM-CRF/f1:.3f} / "
        "{BiLSTM-CRF/ambiguous_f1:.3f}",
    "elmo_contexts":
        "a biLM (forward + backward LSTM LMs, 2 x 64 units, 1 epoch on the lower-cased "
        "training chapters; held-out perplexity {held_out_perplexity/forward:.0f} / "
        "{held_out_perplexity/backward:.0f}, unigram {held_out_perplexity/unigram:.0f}) gives "
        "each use of a word its own vector: mean cosine between two uses of a word "
        "{mean_cosine_elmo:.2f} (word2vec 1); the nearest other use has the same sense (from "
        "the KJV's capitals: Spirit/spirit, Lot/lot, LORD/lord, ...) "
        "{mean_nearest_same_sense:.0%} of the time, chance {mean_chance_same_sense:.0%}. "
        "Proper-noun tagger on frozen features, F1 all / ambiguous words: BiLSTM on word2vec "
        "{probes/word2vec_BiLSTM/f1:.3f} / {probes/word2vec_BiLSTM/ambiguous_f1:.3f}, on ELMo "
        "{probes/elmo_BiLSTM/f1:.3f} / {probes/elmo_BiLSTM/ambiguous_f1:.3f}, on both "
        "{probes/word2vec+elmo_BiLSTM/f1:.3f} / {probes/word2vec+elmo_BiLSTM/ambiguous_f1:.3f}; "
        "the BiLSTM's gain over a left-to-right LSTM on word2vec "
        "{right_context_gain/word2vec/f1:+.3f} / {right_context_gain/word2vec/ambiguous_f1:+.3f}"
        ", on ELMo {right_context_gain/elmo/f1:+.3f} / "
        "{right_context_gain/elmo/ambiguous_f1:+.3f} (ELMo's backward LM already carries the "
        "right context)",
    "cnn_digits":
        "{epochs} epochs, {seeds|len} seeds, the vit_digits split: LeNet-style CNN "
        "{models/cnn/accuracy:.1%} ({models/cnn/parameters:,} parameters), MLP "
        "{models/mlp/accuracy:.1%} ({models/mlp/parameters:,}), ViT {models/vit/accuracy:.1%} "
        "({models/vit/parameters:,}). Test images shifted by 1 pixel cost the CNN "
        "{models/cnn/drop/1:.1%} of accuracy, the MLP {models/mlp/drop/1:.1%}, the ViT "
        "{models/vit/drop/1:.1%} (2 pixels: {models/cnn/drop/2:.1%} / {models/mlp/drop/2:.1%} "
        "/ {models/vit/drop/2:.1%}). References on the same splits: softmax regression "
        "{models/linear/accuracy:.1%} (same training), the 1-nearest-neighbour rule "
        "{nearest_neighbour_accuracy:.1%}",
    "vqvae_digits":
        "VQ-VAE on 8x8 digits (4x4 code grid, {epochs} epochs), held-out MSE / codes used: "
        "plain codebook K=8 {results/('plain', 8)/mse:.4f} / {results/('plain', 8)/used}, "
        "K=128 {results/('plain', 128)/mse:.4f} / {results/('plain', 128)/used} (collapse); "
        "with EMA updates and dead-code restarts K=8 {results/('EMA + restart', 8)/mse:.4f} / "
        "{results/('EMA + restart', 8)/used}, K=128 "
        "{results/('EMA + restart', 128)/mse:.4f} / {results/('EMA + restart', 128)/used} "
        "(predicting the mean image: {baseline_mse:.4f})",
    "vq_prior":
        "the GPT as a prior over the K=32 code grids: held-out {held_out:.3f} nats/code vs "
        "{unigram:.3f} for a unigram over codes (uniform: log 32 = 3.466); {copied} of 16 "
        "sampled grids copy a training grid",
    "vit_digits":
        "ViT {vit_accuracy:.1%} vs MLP {mlp_accuracy:.1%} on held-out digits (mean of "
        "{vit_per_seed|len} seeds; the ViT {vit_per_seed|min:.1%}-{vit_per_seed|max:.1%} per "
        "seed, the MLP {mlp_per_seed|min:.1%}-{mlp_per_seed|max:.1%}); the 1-nearest-neighbour "
        "rule on the same splits {nearest_neighbour_accuracy:.1%}",
    "clip_shapes":
        "tiny CLIP, {models} models (seeds 0-2, each on another held-out set of 5 colour+shape "
        "pairs): zero-shot on pictures of never-seen pairs {zero_shot_unseen:.0%} over 20 "
        "classes ({zero_shot_unseen_per_model|min:.0%}-{zero_shot_unseen_per_model|max:.0%}; "
        "chance 5%), ensemble prompts {zero_shot_unseen_ensemble:.0%}; the colour is right "
        "{unseen_colour_accuracy:.0%} of the time, the shape {unseen_shape_accuracy:.0%}: "
        "{unseen_predicted_as_seen:.0%} of unseen-pair pictures are called a seen pair (seen "
        "pairs: {zero_shot_seen_ensemble:.0%} right, {seen_predicted_as_unseen:.0%} called "
        "unseen). First model: retrieval recall@1 {i2t_recall@1:.0%} / {t2i_recall@1:.0%}, "
        "recall@5 {i2t_recall@5:.0%} / {t2i_recall@5:.0%} (image->text / text->image, "
        "{retrieval_candidates} candidates); digits zero-shot {digits_zero_shot:.1%}",
    "word2vec_variants":
        "word2vec's four variants on the KJV ({epochs} epochs, dim {dim}); related pairs' "
        "median rank among {vocab_size:,} words (a random word: ~{vocab_size|half:,}) / "
        "analogies first of {analogies} / words per second: skip-gram + negative sampling "
        "{skipgram_ns/related_pair_median_rank:.1f} / {skipgram_ns/analogies_first} / "
        "{skipgram_ns/words_per_second:,.0f}, skip-gram + hierarchical softmax "
        "{skipgram_hs/related_pair_median_rank:.1f} / {skipgram_hs/analogies_first} / "
        "{skipgram_hs/words_per_second:,.0f}, CBOW + negative sampling "
        "{cbow_ns/related_pair_median_rank:.1f} / {cbow_ns/analogies_first} / "
        "{cbow_ns/words_per_second:,.0f}, CBOW + hierarchical softmax "
        "{cbow_hs/related_pair_median_rank:.1f} / {cbow_hs/analogies_first} / "
        "{cbow_hs/words_per_second:,.0f} (the Huffman tree's mean path: "
        "{skipgram_hs/mean_path_length:.1f} decisions per target, against K + 1 = 6)",
    "pretrained_gpt2":
        "OpenAI's GPT-2 124M in this framework needs its weights (548 MB, not in the repository, "
        "not reachable offline): the recorded full run had none ({status}: "
        "{missing|len} files). What needs no download: a small random GPT-2 written by "
        "transformers and loaded here; same top-5 next tokens as transformers' with "
        "probabilities within 1e-4: {matches_transformers} (max |p - p_hf| "
        "{max_prob_gap:.0e}); GPT-2 124M's "
        "architecture ({gpt2_124m_architecture/parameters:,} parameters, random weights) "
        "runs one forward pass of 128 tokens in "
        "{gpt2_124m_architecture/forward_seconds:.2f} s on the CPU",
    "bert_nsp":
        "character BERT on pairs of KJV verses, {steps} steps: next-sentence accuracy "
        "{nsp_accuracy:.1%} on {held_out_pairs} held-out pairs (half of them IsNext: chance "
        "50%); held-out masked-character accuracy trained on MLM alone "
        "{mlm_only/mlm_accuracy:.1%}, on MLM + NSP {mlm_nsp/mlm_accuracy:.1%} (one seed each)",
    "siglip_vs_softmax":
        "tiny CLIP, {steps} steps at batch 8 / 32 / 128, zero-shot on never-seen pairs "
        "(chance {chance:.0%}): softmax (InfoNCE) loss {softmax_8/zero_shot_unseen:.0%} / "
        "{softmax_32/zero_shot_unseen:.0%} / {softmax_128/zero_shot_unseen:.0%}, SigLIP's "
        "sigmoid loss {sigmoid_8/zero_shot_unseen:.0%} / {sigmoid_32/zero_shot_unseen:.0%} / "
        "{sigmoid_128/zero_shot_unseen:.0%}; text->image recall@1 softmax "
        "{softmax_8/t2i_recall@1:.0%} / {softmax_32/t2i_recall@1:.0%} / "
        "{softmax_128/t2i_recall@1:.0%}, sigmoid {sigmoid_8/t2i_recall@1:.0%} / "
        "{sigmoid_32/t2i_recall@1:.0%} / {sigmoid_128/t2i_recall@1:.0%} (chance "
        "{retrieval_chance@1:.1%}). From batch 128 down to 8, zero-shot on unseen pairs "
        "drops by "
        "{softmax_drop_8_vs_128/zero_shot_unseen:.0%} (softmax) and "
        "{sigmoid_drop_8_vs_128/zero_shot_unseen:.0%} (sigmoid), absolute, one seed each",
    "compile_fusion":
        "tg.compile of an MLP + Adam and a transformer block + AdamW step: fusion "
        "{mlp_kernels_before_fusion} -> {mlp_kernels_after_fusion} kernels (MLP) and "
        "{block_kernels_before_fusion} -> {block_kernels_after_fusion} (block); memory planning "
        "cuts the bytes a step allocates {mlp_bytes_before_plan:,} -> {mlp_bytes_after_plan:,} "
        "and {block_bytes_before_plan:,} -> {block_bytes_after_plan:,}; losses identical to "
        "eager over {mlp_losses_checked} steps (MLP {mlp_losses_equal}, block "
        "{block_losses_equal}); compiled over eager {mlp_speedup:.2f}x and "
        "{block_speedup:.2f}x faster (median of paired rounds)",
    "clip_vs_fusion":
        "swap test (the true caption vs the same words with the two objects or colours "
        "exchanged, chance 50%) on {swap_images} images of seen pairs after {steps} steps: CLIP "
        "{clip_swap:.1%} [{clip_swap_low:.1%}, {clip_swap_high:.1%}], ALBEF's ITM head "
        "{albef_itm_swap:.1%} [{albef_itm_swap_low:.1%}, {albef_itm_swap_high:.1%}] (95% "
        "Wilson; relation / attribute swaps CLIP {swap_seen_clip/relation:.0%} / "
        "{swap_seen_clip/attribute:.0%}, ITM {swap_seen_albef_itm/relation:.0%} / "
        "{swap_seen_albef_itm/attribute:.0%}): {verdict}; held-out pairs CLIP "
        "{swap_held_out_clip/accuracy:.1%}, ITM {swap_held_out_albef_itm/accuracy:.1%}. "
        "Retrieval image->text R@1 among {retrieval_clip/n} CLIP {retrieval_clip/i2t/1:.0%}, "
        "ALBEF ITC {retrieval_albef/i2t/1:.0%}, ITC + ITM rerank "
        "{retrieval_albef/i2t_rerank/1:.0%}",
    "albef_ablation":
        "ALBEF, {steps} steps per arm, swap test on {swap_hard/n} images (chance 50%): ITM "
        "with random negatives {swap_random/accuracy:.1%}, hard negatives "
        "{swap_hard/accuracy:.1%}, hard + generated swap negatives (NegCLIP-style, not "
        "ALBEF's recipe) {swap_hard_swaps/accuracy:.1%} [{swap_hard_swaps/ci|first:.1%}, "
        "{swap_hard_swaps/ci|last:.1%}]; with {noisy_captions:.0%} wrong captions, without / "
        "with momentum distillation: swap {swap_no_mod/accuracy:.1%} / "
        "{swap_mod/accuracy:.1%}, ITC R@1 {retrieval_no_mod/i2t/1:.0%} / "
        "{retrieval_mod/i2t/1:.0%}; MLM on a masked colour/shape word with the image "
        "{mlm_image:.0%}, image blanked {mlm_blank:.0%}",
    "vilt_vs_albef":
        "at width 48 and two layers that see the image, {steps} steps each: swap test ViLT "
        "{vilt_swap/accuracy:.1%}, ALBEF {albef_swap/accuracy:.1%} on {albef_swap/n} images "
        "({verdict}); a training step {vilt_ms_per_step:.0f} ms (ViLT, {vilt_parameters:,} "
        "parameters) vs {albef_ms_per_step:.0f} ms (ALBEF, {albef_parameters:,}): "
        "{step_cost_ratio:.2f}x",
    "vlmo_modes":
        "one VLMo, {steps} steps: image->text R@1 as a dual encoder "
        "{retrieval_vlmo/i2t/1:.0%} (CLIP {retrieval_clip/i2t/1:.0%}, ALBEF ITC "
        "{retrieval_albef/i2t/1:.0%}); swap test as a fusion encoder {swap_vlmo/accuracy:.1%} "
        "(ALBEF ITM {swap_albef/accuracy:.1%}, CLIP {swap_clip/accuracy:.1%}; "
        "{swap_vlmo/n} images, chance 50%)",
    "coca_tradeoff":
        "CoCa (one model, contrastive + captioning losses), {steps} steps per run on the "
        "relational scenes, lambda_cap = 0 (CLIP) / 0.5 / 1 / 2 with lambda_con = 1, on "
        "held-out colour+shape pairs: zero-shot accuracy over {zero_shot_classes} captions "
        "{cap_0/held_out/zero_shot:.1%} / {cap_0.5/held_out/zero_shot:.1%} / "
        "{cap_1/held_out/zero_shot:.1%} / {cap_2/held_out/zero_shot:.1%} (the two right objects "
        "{cap_0/held_out/zero_shot_objects:.1%} / {cap_0.5/held_out/zero_shot_objects:.1%} / "
        "{cap_1/held_out/zero_shot_objects:.1%} / {cap_2/held_out/zero_shot_objects:.1%}); "
        "greedy captions true of the image {cap_0/held_out/caption_correct:.1%} / "
        "{cap_0.5/held_out/caption_correct:.1%} / {cap_1/held_out/caption_correct:.1%} / "
        "{cap_2/held_out/caption_correct:.1%}, next-token accuracy "
        "{cap_0/held_out/token_accuracy:.1%} / {cap_0.5/held_out/token_accuracy:.1%} / "
        "{cap_1/held_out/token_accuracy:.1%} / {cap_2/held_out/token_accuracy:.1%} (seen pairs: "
        "zero-shot {cap_0/seen/zero_shot:.1%} / {cap_2/seen/zero_shot:.1%}, captions true "
        "{cap_0/seen/caption_correct:.1%} / {cap_2/seen/caption_correct:.1%} at lambda_cap 0 / "
        "2; one seed each)",
    "caption_samples":
        "image-grounded text decoder (ViT + 2 layers of causal self-attention and "
        "cross-attention), {steps} steps; greedy / beam search ({beam_size} beams) captions "
        "true of the image on {test} new scenes of seen colour+shape pairs "
        "{seen/greedy/correct:.1%} / {seen/beam/correct:.1%} (word for word the reference "
        "{seen/greedy/reference_match:.1%} / {seen/beam/reference_match:.1%}; mean log p "
        "{seen/greedy/log_prob:.2f} / {seen/beam/log_prob:.2f}), of held-out pairs "
        "{held_out/greedy/correct:.1%} / {held_out/beam/correct:.1%}; next-token accuracy "
        "{seen/token_accuracy:.1%} (seen) and {held_out/token_accuracy:.1%} (held-out)",
    "lora_finetune":
        "KJV char GPT pretrained without {book}, then adapted to it ({steps} steps): held-out "
        "{book} bits/char frozen {results/frozen/test_bits:.3f}, full fine-tuning "
        "{results/full/test_bits:.3f} ({results/full/trainable:,} trainable parameters), LoRA "
        "r=1 {results/lora_r1/test_bits:.3f} ({results/lora_r1/trainable:,}), r=4 "
        "{results/lora_r4/test_bits:.3f} ({results/lora_r4/trainable:,}), r=16 "
        "{results/lora_r16/test_bits:.3f} ({results/lora_r16/trainable:,}); forgetting, the "
        "other books' bits/char: frozen {results/frozen/other_books_bits:.3f}, full "
        "{results/full/other_books_bits:.3f}, LoRA r=16 {results/lora_r16/other_books_bits:.3f}"
        "; r=16 merged into the weights: {merged_test_bits:.3f}",
    "connectors_vqa":
        "frozen KJV char GPT + frozen shapes ViT, only the connector trained ({steps} steps; "
        "LoRA r=4 runs {lora_steps}); answers written by the LM, exact match, on held-out "
        "colour+shape pairs (seen pairs): text only {text_only_held_out:.0%} "
        "({text_only_seen:.0%}), LLaVA MLP {llava_held_out:.0%} ({llava_seen:.0%}; "
        "{llava_image_tokens} image tokens, {llava_trainable:,} trained), resampler "
        "{resampler_held_out:.0%} ({resampler_seen:.0%}; {resampler_image_tokens} tokens, "
        "{resampler_trainable:,}), Flamingo {flamingo_held_out:.0%} ({flamingo_seen:.0%}; no "
        "LM position, {flamingo_trainable:,}; gates tanh(alpha) 0 -> "
        "{flamingo_final_xattn_gates|first:+.2f}, {flamingo_final_xattn_gates|last:+.2f}); with "
        "LoRA: LLaVA {llava_lora_held_out:.0%} ({llava_lora_seen:.0%}), Flamingo "
        "{flamingo_lora_held_out:.0%} ({flamingo_lora_seen:.0%})",
    "blip_capfilt":
        "BLIP (ITC + ITM + LM, {steps} steps) on {train_images:,} relational scenes: "
        "{clean_pairs:,} clean (true captions), {web_pairs:,} web captions {wrong_fraction:.0%} "
        "wrong. CapFilt as the paper: the noisy + clean model fine-tuned {finetune_steps} steps "
        "on the clean set as captioner (LM) and filter (ITC + ITM). The filter finds the wrong "
        "web captions with precision {filter_web/precision:.0%}, recall {filter_web/recall:.0%} "
        "(before fine-tuning {filter_web_before/precision:.0%}, "
        "{filter_web_before/recall:.0%}); nucleus-sampled (top_p {top_p}) synthetic captions "
        "{synthetic_true:.0%} true ({synthetic_objects_right:.0%} name the two objects right), "
        "{synthetic_kept:,} kept ({synthetic_kept_true:.0%} of them true); the cleaned set has "
        "{cleaned_pairs:,} pairs, {cleaned_wrong_fraction:.0%} wrong (noisy + clean: "
        "{noisy_clean_wrong_fraction:.0%}; clean + kept web captions only: "
        "{filter_only_pairs:,} pairs, {filter_only_wrong_fraction:.0%} wrong). Held-out images, "
        "noisy / noisy + clean / CapFilt / filter only: image->text R@1 {noisy/i2t_r1:.0%} / "
        "{noisy_clean/i2t_r1:.0%} / {capfilt/i2t_r1:.0%} / {filter_only/i2t_r1:.0%}, "
        "text->image {noisy/t2i_r1:.0%} / {noisy_clean/t2i_r1:.0%} / {capfilt/t2i_r1:.0%} / "
        "{filter_only/t2i_r1:.0%}, caption exact match {noisy/exact_match:.0%} / "
        "{noisy_clean/exact_match:.0%} / {capfilt/exact_match:.0%} / "
        "{filter_only/exact_match:.0%}, token accuracy {noisy/token_accuracy:.0%} / "
        "{noisy_clean/token_accuracy:.0%} / {capfilt/token_accuracy:.0%} / "
        "{filter_only/token_accuracy:.0%}",
    "any_resolution":
        "{side}x{side} canvases of small shapes, a 24x24 frozen ViT, Flamingo on the frozen KJV "
        "GPT ({steps} steps): shape / colour answers right with one downscaled view "
        "{single_shape:.0%} / {single_colour:.0%} ({single_tokens} image tokens), with tiles + a "
        "global view {tiled_shape:.0%} / {tiled_colour:.0%} ({tiled_tokens}), the same "
        "resampled to {resampled_tokens} tokens {resampled_shape:.0%} / "
        "{resampled_colour:.0%}; an MLP projector's LM tokens grow with the side "
        "({projector_tokens|first} at {sides|first} px, {projector_tokens|last} at "
        "{sides|last}), the resampler's stay {resampled_tokens}",
}

# One line per figure file (as saved by demos/_plotting.save): what to look at in it.
CAPTIONS = {
    "autograd_basics.png": "The V: to the right of the bottom the finite differences' "
    "truncation error (slope 2), to the left their rounding error (slope -1); autograd is the "
    "exact side of each comparison, so the bottom of the V is the reference for its error.",
    "perceptron.png": "Left: one line separates the classes. Middle: no line can do XOR, the "
    "perceptron's best leaves a quarter wrong. Right: an MLP's bent boundary gets XOR.",
    "sigmoid_temperature.png": "As tau shrinks the sigmoid closes in on the step everywhere "
    "except in a band around 0 that narrows with tau.",
    "losses.png": "Left: cross-entropy to a soft target stops at H(p), not at 0. Right: the "
    "best constant under MSE is the mean (pulled by the outlier 100), under MAE the median.",
    "mlp_digits.png": "The test accuracy climbs above the softmax-regression line but stays "
    "under the 1-nearest-neighbour line: on 8x8 digits, memorising the pixels is hard to beat.",
    "schedules.png": "Left: the schedules' shapes. Right: the constant rate keeps bouncing "
    "(its loss jumps up and down to the end); every decayed schedule settles lower.",
    "schedules_gallery.png": "Every scheduler of optim.lr_scheduler over 100 steps: compare "
    "the warm restarts, cyclic and one-cycle shapes with the monotone decays.",
    "linear_scaling.png": "Solid lines (batch and learning rate scaled together) stay near "
    "the B=16 curve up to k=4; dashed ones (batch scaled alone) learn far slower per epoch.",
    "multiclass_strategies.png": "Black is where the strategy gives no single class: half the "
    "plane for one-vs-rest, slivers for one-vs-one, nothing for softmax.",
    "regression_as_classification.png": "Right: the MSE head predicts the mean of +-sqrt(x), "
    "0, which is never an answer; the byte head picks one branch. Left: both fit a plain "
    "function.",
    "discriminative_generative.png": "Left: with its assumptions right the generative fit is "
    "ahead for small training sets (not the very smallest). Middle: with correlated features "
    "it stalls below Bayes. Right: its samples lack the data's correlation.",
    "text_retrieval.png": "TF-IDF's bars beat raw counts on every measure; hashing into 2^14 "
    "columns costs nothing, into 2^8 it merges words and loses verses.",
    "ngram_lm.png": "Left (log scale): add-one gets worse with every order, Kneser-Ney better; "
    "the mixture is the lowest point. Right: the neural model's validation perplexity by "
    "epoch against the Kneser-Ney line.",
    "word2vec.png": "Each colour is one query word and its 4 nearest neighbours: the groups "
    "form separate clusters even in two dimensions.",
    "vanishing_gradients.png": "Same colour = same model in both panels. Left: all three "
    "decay geometrically at initialisation. Right: scaling W_hh or opening the gates (dashed, "
    "b=5) changes the slope, up to growth (RNN gamma=2).",
    "long_memory.png": "The LSTM and GRU losses fall below the guessing line; the plain "
    "RNN's stays on it.",
    "seq2seq_attention.png": "Exact match by string length: without attention (gru_plain, "
    "lstm_plain) it collapses as strings grow past 6; with attention it stays near 1 to the "
    "longest strings.",
    "text_cnn.png": "The bag of words sits on the order-blind ceiling; the CNN, which sees "
    "word order, goes past it.",
    "attention_scaling.png": "Without 1/sqrt(d_k) the score spread grows, the entropy and the "
    "gradient collapse as d_k grows; with it the lines are flat.",
    "gpt_chars.png": "The GPT's held-out loss passes the unigram and bigram lines as it "
    "trains; compare where it ends with the character 5-gram's line, the stronger reference.",
    "noisy_channel.png": "Every line with the language model lies far below the channel "
    "alone, close to the best possible; a wider beam helps a little.",
    "proper_nouns.png": "A word's majority label gets the easy words; on the ambiguous ones "
    "(capitalised 10-90% of the time) only the taggers that read the context score.",
    "elmo_contexts.png": "Left: how often a word use's nearest other use (ELMo vectors) has "
    "the same capital-labelled sense, against chance, all a single word2vec vector can do; "
    "right: the proper-noun tagger on frozen word2vec, ELMo, and both.",
    "bert_mlm.png": "Accuracy on masked characters as training goes, against the count "
    "baselines' lines.",
    "vit_digits.png": "Held-out accuracy per epoch (seed 0): the ViT and the MLP end close "
    "together, both under the 1-nearest-neighbour line.",
    "cnn_digits_filters.png": "The first convolution's 16 learned 3x3 filters: edge and "
    "stroke detectors.",
    "cnn_digits_features.png": "One test digit through the first layer: each map lights up "
    "where its filter's pattern occurs.",
    "vqvae_digits.png": "Held-out digits (top) and their reconstructions from a 4x4 grid of "
    "codes: the strokes survive quantisation.",
    "vq_prior.png": "Code grids sampled from the GPT prior, decoded to digits: new digits, "
    "not copies of training grids.",
    "clip_shapes.png": "Middle: the brighter 4x4 blocks on the diagonal are the colours (a "
    "picture matches the prompts of its own colour more than any other colour's); a starred, "
    "unseen row often peaks on a seen shape of its colour. Right: the share of unseen-pair "
    "pictures called a seen pair, against the seen pairs' few called unseen.",
    "word2vec_variants.png": "Left, lower is better: where a related word ranks among the "
    "query's neighbours, with each variant's analogies on top. Right: CBOW makes one "
    "prediction per target word (from its averaged context), skip-gram one per context word, "
    "hence the gap in speed.",
    "bert_nsp.png": "Left: the masked-character losses of the two models side by side. Right: "
    "the next-sentence loss against ln 2, the loss of a constant guess; a line that stays on "
    "it means the head has learned nothing about which verse follows.",
    "siglip_vs_softmax.png": "Each measure against the batch size, blue softmax, orange "
    "sigmoid: the steeper a line climbs from batch 8 to 128, the more that loss needs a large "
    "batch (compare the two slopes, not one point).",
    "coca_tradeoff.png": "Each measure against lambda_cap (left held-out colour+shape pairs, "
    "right seen ones): the captioning measures rise from the untrained captioner of CLIP "
    "(lambda_cap = 0); compare the zero-shot lines across lambda_cap to see what the "
    "captioning loss costs or buys the contrastive embedding.",
    "caption_samples.png": "New test scenes with the greedy and the beam-search caption under "
    "each, green when true of the image (top two rows seen colour + shape pairs, bottom row a "
    "never-seen pair): look at what the decoder names instead of the unseen pair, and where "
    "the two decoders differ.",
    "lora_finetune.png": "Left: held-out bits per character on the new book against the "
    "number of trainable parameters (log scale), with the other books' bits (forgetting) and "
    "the frozen model's two lines: how much of full fine-tuning's gain each rank buys. Right: "
    "the validation curves, all from the frozen model's value (LoRA's exactly: B = 0).",
    "connectors_vqa.png": "Left: exact-match accuracy per question type on held-out colour + "
    "shape pairs, each connector against the text-only baseline and the most frequent answer "
    "(black dash). Right: Flamingo's gates tanh(alpha) move away from exactly 0 (the frozen "
    "LM) as training finds the image useful.",
    "blip_capfilt.png": "Left: the fine-tuned filter's p(match) of the true and the wrong web "
    "captions (log counts), the threshold dotted: the wrong captions left of it are the ones "
    "removed, the true ones left of it are lost. Right: the models trained on the noisy web "
    "set, on web + clean, after CapFilt, and on clean + the kept web captions only, side by "
    "side on held-out images.",
    "any_resolution.png": "Left: answers right per question type with one downscaled view, "
    "with tiles + a global view, and with those resampled to 8 tokens (black dash: always the "
    "most frequent answer). Right: image tokens per image against the image's side: one LM "
    "token per feature grows with the area, the resampler stays at 8.",
}


# ----------------------------------------------------------------------------- values

def jsonable(value):
    """``value`` with NumPy scalars/arrays, tuples and non-string keys made JSON types."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return f"<{type(value).__name__}>"  # an object (a model, a channel): its kind, not its id


def flatten(values, prefix=""):
    """Nested dicts as one dict with "/"-joined keys: {"a": {"b": 1}} -> {"a/b": 1}."""
    flat = {}
    for key, value in values.items():
        path = f"{prefix}{key}"
        flat[path] = value
        if isinstance(value, dict):
            flat.update(flatten(value, path + "/"))
    return flat


_REDUCE = {"min": min, "max": max, "len": len, "first": lambda v: v[0], "last": lambda v: v[-1],
           "half": lambda v: v // 2}
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def _parse(text, flat):
    """Split "key[|reduce][:spec]" into its parts. A key may itself hold ":" (an analogy
    "man:woman:king:queen"): the longest prefix that is a recorded key wins."""
    cut = len(text)
    while cut >= 0:
        key, _, reduce = text[:cut].partition("|")
        if key in flat and (not reduce or reduce in _REDUCE):
            return key, reduce, text[cut + 1:]
        cut = text.rfind(":", 0, cut)
    key, _, reduce = text.partition(":")[0].partition("|")
    return key, reduce, ""


def render(template, values):
    """``template`` with each {key[|reduce][:spec]} replaced by the recorded value."""
    flat = flatten(values)

    def fill(match):
        key, reduce, spec = _parse(match.group(1), flat)
        if key not in flat:
            raise KeyError(f"results: the template names {key!r}, which the results do not hold "
                           f"(they hold {sorted(flat)})")
        if reduce and reduce not in _REDUCE:
            raise ValueError(f"results: unknown reduction {reduce!r} in {{{match.group(1)}}}; "
                             f"use one of {list(_REDUCE)}")
        value = flat[key]
        if reduce:
            value = _REDUCE[reduce](value)
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        return format(value, spec)

    return _PLACEHOLDER.sub(fill, template)


# ----------------------------------------------------------------------------- the file

def machine():
    """What the numbers were measured on: cores, BLAS and its thread limit, NumPy, Python."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # show_config's layout is not a stable API; the rest still stands
        blas = "unknown"
    return {"cores": os.cpu_count(), "blas": blas,
            "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
            "numpy": np.__version__, "python": platform.python_version(),
            "platform": platform.platform(terse=True)}


def load(path=RESULTS_JSON):
    """The results file as {"demos": {name: entry}}; an empty one if it does not exist yet."""
    if not os.path.exists(path):
        return {"demos": {}}
    with open(path) as handle:
        return json.load(handle)


def _write(path, text):
    """Write ``text`` to ``path`` at once (a reader never sees half a file)."""
    with open(path + ".tmp", "w") as handle:
        handle.write(text)
    os.replace(path + ".tmp", path)


def save(results, path=RESULTS_JSON):
    _write(path, json.dumps(results, indent=1, sort_keys=True, allow_nan=True) + "\n")


def record(name, values, seconds, figures, path=RESULTS_JSON, when=None, cpu_seconds=None):
    """Merge demo ``name``'s full-run entry into the results file and return the whole file.

    ``figures`` are the png paths the run saved (demos._plotting.SAVED); each is copied to
    demos/figures/ so that the gallery page can show it from the repository. ``cpu_seconds``
    is the CPU time the run's process used: unlike the wall time it does not grow with other
    work on the machine (with OPENBLAS_NUM_THREADS=1 it is about the wall time when idle).
    """
    os.makedirs(FIGURES_DIR, exist_ok=True)
    kept = []
    for source in figures:
        target = os.path.join(FIGURES_DIR, os.path.basename(source))
        if os.path.abspath(source) != os.path.abspath(target):
            shutil.copyfile(source, target)
        if os.path.basename(source) not in kept:
            kept.append(os.path.basename(source))
    results = load(path)
    results["demos"][name] = {
        "values": jsonable(values), "seconds": round(float(seconds), 1),
        "date": (when or datetime.date.today()).isoformat(), "machine": machine(),
        # other work on the machine slows a run down: the 1-minute load average at its end
        "load_average": round(os.getloadavg()[0], 1), "figures": kept}
    if cpu_seconds is not None:
        results["demos"][name]["cpu_seconds"] = round(float(cpu_seconds), 1)
    save(results, path)
    return results


# ----------------------------------------------------------------------------- pages

def _minutes(seconds):
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def _run_time(entry):
    """"6.6 min" (wall time), with the CPU time beside it when the run recorded one."""
    if "cpu_seconds" not in entry:
        return _minutes(entry["seconds"])
    return f"{_minutes(entry['seconds'])} (CPU {_minutes(entry['cpu_seconds'])})"


def row_text(name, entry):
    """The README cell for one demo: its filled template, or why there is no number."""
    if entry is None:
        return "*no full run recorded yet* (`python -m demos " + name + " --full --write-results`)"
    if name not in ROWS:
        return "*full run recorded (see demos/RESULTS.md), no README row written for it yet*"
    try:
        return render(ROWS[name], entry["values"])
    except KeyError as err:  # the row names a value this (older) run did not measure
        missing = str(err).split("'")[1]
        return (f"*the recorded full run ({entry['date']}) predates this row: it lacks "
                f"`{missing}`; rerun `python -m demos {name} --full --write-results`*")


def readme_table(results, names=None):
    """The README's demo table (markdown) for ``names`` (default: demos.DEMOS, in order)."""
    from demos import DEMOS

    lines = ["| demo | what it shows (full mode, measured) | full run |", "|---|---|---|"]
    for name in names or DEMOS:
        entry = results["demos"].get(name)
        when = "-" if entry is None else f"{_run_time(entry)}, {entry['date']}"
        lines.append(f"| `{name}` | {row_text(name, entry)} | {when} |")
    return "\n".join(lines) + "\n"


def replace_table(readme_text, table):
    """``readme_text`` with the region between BEGIN and END replaced by ``table``."""
    start, stop = readme_text.find(BEGIN), readme_text.find(END)
    if start < 0 or stop < start:
        raise ValueError(f"results: README.md lacks the markers {BEGIN} ... {END}")
    return readme_text[:start + len(BEGIN)] + "\n" + table + readme_text[stop:]


def table_in(readme_text):
    """The text between BEGIN and END in ``readme_text`` (what replace_table writes)."""
    start, stop = readme_text.find(BEGIN), readme_text.find(END)
    if start < 0 or stop < start:
        raise ValueError(f"results: README.md lacks the markers {BEGIN} ... {END}")
    return readme_text[start + len(BEGIN) + 1:stop]


def _machine_line(m):
    return (f"{m['cores']} cores, {m['blas']} (OPENBLAS_NUM_THREADS={m['blas_threads']}), "
            f"NumPy {m['numpy']}, Python {m['python']}, {m['platform']}")


def _value_text(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list) and len(value) > 8:
        return f"list of {len(value)}"
    text = json.dumps(value) if not isinstance(value, str) else value
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= 120 else text[:117] + "..."


def results_markdown(results):
    """demos/RESULTS.md: per demo, its run, machine and every recorded value."""
    from demos import DEMOS

    out = ["# Demo results (generated)", "",
           "Written by `python -m demos --full --write-results` from demos/RESULTS.json; do not "
           "edit by hand. Each demo's section lists every value its `main()` returned in full "
           "mode (lists longer than 8 are summarised; the JSON has them all).", ""]
    total = sum(e["seconds"] for e in results["demos"].values())
    out.append(f"Recorded full runs: {len(results['demos'])} of {len(DEMOS)} demos, "
               f"{_minutes(total)} in all.")
    timed = [e["cpu_seconds"] for e in results["demos"].values() if "cpu_seconds" in e]
    if timed:  # the CPU time does not count the waits for other work on the machine
        out.append(f"CPU time recorded for {len(timed)} of them: {_minutes(sum(timed))}.")
    missing = [n for n in DEMOS if n not in results["demos"]]
    if missing:
        out.append("No full run recorded yet: " + ", ".join(f"`{n}`" for n in missing) + ".")
    for name in DEMOS:
        entry = results["demos"].get(name)
        if entry is None:
            continue
        run = f"{entry['date']}, {_run_time(entry)}"
        if "load_average" in entry:
            run += f" at load {entry['load_average']}"
        out += ["", f"## {name}", "", f"{run} on {_machine_line(entry['machine'])}",
                "", "| value | measured |", "|---|---|"]
        for key, value in flatten(entry["values"]).items():
            if not isinstance(value, dict):
                out.append(f"| `{key}` | {_value_text(value)} |")
    return "\n".join(out) + "\n"


def gallery_markdown(results):
    """demos/GALLERY.md: every recorded figure with the line saying what to look at."""
    from demos import DEMOS

    out = ["# Demo gallery (generated)", "",
           "Every figure the demos saved in their last recorded full run (`python -m demos "
           "--full --write-results`), with what to look at.", ""]
    for name in DEMOS:
        entry = results["demos"].get(name)
        if entry is None:
            continue
        for figure in entry["figures"]:
            out += [f"## {name}: {figure}", "",
                    CAPTIONS.get(figure, "*(no caption written for this figure yet)*"), "",
                    f"![{figure}](figures/{figure})", ""]
        if not entry["figures"]:
            out += [f"## {name}", "", "*(no figure: matplotlib was missing or the demo saves "
                    "none)*", ""]
    return "\n".join(out)


def write_pages(results=None, readme=README):
    """Regenerate RESULTS.md, GALLERY.md and the README table from the results file."""
    results = load() if results is None else results
    shown = {figure for entry in results["demos"].values() for figure in entry["figures"]}
    for stale in set(os.listdir(FIGURES_DIR) if os.path.isdir(FIGURES_DIR) else []) - shown:
        os.remove(os.path.join(FIGURES_DIR, stale))  # a figure no recorded run saves any more
    _write(RESULTS_MD, results_markdown(results))
    _write(GALLERY_MD, gallery_markdown(results))
    with open(readme) as handle:
        text = handle.read()
    _write(readme, replace_table(text, readme_table(results)))


if __name__ == "__main__":
    write_pages()
    print(f"wrote {RESULTS_MD}, {GALLERY_MD} and the demo table of {README}")
