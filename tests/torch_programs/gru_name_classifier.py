"""Classifying names by their language, in the style of PyTorch's char-RNN tutorial, with
an nn.GRU: one-hot letters built with item assignment, LogSoftmax + NLLLoss, topk, and
hand-written SGD on p.data. The "languages" are made up (each has its own syllables)."""

import random
import string

import tinygrad_course.torch as torch
import tinygrad_course.torch.nn as nn

all_letters = string.ascii_letters + " .,;'"
n_letters = len(all_letters)

syllables = {
    'Italian': ['ro', 'ssi', 'ni', 'ello', 'bi', 'anc', 'ti'],
    'Japanese': ['ka', 'to', 'mi', 'ya', 'shi', 'ra', 'ko'],
    'Russian': ['ov', 'sky', 'ev', 'vich', 'lov', 'ik', 'in'],
}
random.seed(0)
category_lines = {category: [''.join(random.choice(parts) for _ in range(random.randint(2, 3)))
                             .capitalize() for _ in range(40)]
                  for category, parts in syllables.items()}
all_categories = list(category_lines)
n_categories = len(all_categories)


def letterToIndex(letter):
    return all_letters.find(letter)


def lineToTensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li, letter in enumerate(line):
        tensor[li][0][letterToIndex(letter)] = 1
    return tensor


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(RNN, self).__init__()
        self.gru = nn.GRU(input_size, hidden_size)
        self.h2o = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, line_tensor):
        output, hidden = self.gru(line_tensor)
        output = self.h2o(hidden[0])
        output = self.softmax(output)
        return output


def categoryFromOutput(output):
    top_n, top_i = output.topk(1)
    category_i = top_i[0].item()
    return all_categories[category_i], category_i


def randomTrainingExample():
    category = random.choice(all_categories)
    line = random.choice(category_lines[category])
    category_tensor = torch.tensor([all_categories.index(category)], dtype=torch.long)
    line_tensor = lineToTensor(line)
    return category, line, category_tensor, line_tensor


torch.manual_seed(0)
rnn = RNN(n_letters, 32, n_categories)
criterion = nn.NLLLoss()
learning_rate = 0.05


def train(category_tensor, line_tensor):
    rnn.zero_grad()
    output = rnn(line_tensor)
    loss = criterion(output, category_tensor)
    loss.backward()
    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-learning_rate)
    return output, loss.item()


n_iters = 600
plot_every = 100
current_loss = 0
losses = []
for iter in range(1, n_iters + 1):
    category, line, category_tensor, line_tensor = randomTrainingExample()
    output, loss = train(category_tensor, line_tensor)
    current_loss += loss
    if iter % plot_every == 0:
        guess, guess_i = categoryFromOutput(output)
        correct = '✓' if guess == category else '✗ (%s)' % category
        print('%d %d%% %.4f %s / %s %s' % (iter, iter / n_iters * 100, loss, line, guess,
                                           correct))
        losses.append(current_loss / plot_every)
        current_loss = 0
