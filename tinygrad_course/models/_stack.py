"""The encoder stack that GPT, BERT and ViT share: L transformer blocks, one after another.

    h_0 = the embedded sequence (N, T, d_model)
    h_l = Block_l(h_{l-1}),  l = 1..L         Block = nn.TransformerEncoderLayer, batch first:
                                              self-attention + feed-forward, pre-LN
                                              (norm_first) or post-LN

The three models differ around the stack (embeddings, heads, the mask), not in it: GPT runs
it with a causal mask, BERT with a padding mask, ViT with none. An EncoderStack is a
ModuleList of the blocks, so its parameters are named ``<name>.<l>.<block parameter>``
exactly as the models' lists of blocks were (checkpoints and the Hugging Face loaders keep
working).
"""

from ..nn.module import ModuleList
from ..nn.transformer import TransformerEncoderLayer
from .activations import feed_forward_activation


class EncoderStack(ModuleList):
    """EncoderStack(num_layers, d_model, nhead, dim_feedforward=None, dropout=0.0,
    activation="gelu", layer_norm_eps=1e-5, norm_first=True, generator=None, device=None).

    dim_feedforward defaults to 4 d_model; ``activation`` by name (models/activations.py).
    The blocks draw their initial weights from ``generator`` in order, block 0 first.
    forward(x (N, T, d_model), key_padding_mask=None, is_causal=False) -> (N, T, d_model).
    """

    def __init__(self, num_layers, d_model, nhead, dim_feedforward=None, dropout=0.0,
                 activation="gelu", layer_norm_eps=1e-5, norm_first=True, generator=None,
                 device=None):
        super().__init__([
            TransformerEncoderLayer(d_model, nhead, dim_feedforward or 4 * d_model, dropout,
                                    activation=feed_forward_activation(activation),
                                    layer_norm_eps=layer_norm_eps, batch_first=True,
                                    norm_first=norm_first, generator=generator, device=device)
            for _ in range(num_layers)])

    def forward(self, x, key_padding_mask=None, is_causal=False):
        for block in self:
            x = block(x, src_key_padding_mask=key_padding_mask, is_causal=is_causal)
        return x
