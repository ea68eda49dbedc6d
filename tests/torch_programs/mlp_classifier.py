"""An MLP classifier in the style of PyTorch's MNIST example, on three Gaussian classes in
20 dimensions (no download): DataLoader, nn.Module, log_softmax + nll_loss, SGD with
momentum, StepLR, a test pass under no_grad, and a state dict saved and loaded."""

import os
import tempfile

import numpy as np

import tinygrad_course.torch as torch
import tinygrad_course.torch.nn as nn
import tinygrad_course.torch.nn.functional as F
import tinygrad_course.torch.optim as optim
from tinygrad_course.torch.optim.lr_scheduler import StepLR
from tinygrad_course.torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.fc1 = nn.Linear(20, 64)
        self.dropout = nn.Dropout(0.25)
        self.fc2 = nn.Linear(64, 3)

    def forward(self, x):
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(model, device, train_loader, optimizer, epoch, losses):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    test_loss /= len(test_loader.dataset)
    print('Test set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)'.format(
        test_loss, correct, len(test_loader.dataset),
        100. * correct / len(test_loader.dataset)))
    return correct / len(test_loader.dataset)


torch.manual_seed(1)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
rng = np.random.default_rng(0)
centres = rng.normal(size=(3, 20)) * 0.5
labels = rng.integers(0, 3, size=600)
points = (centres[labels] + rng.normal(size=(600, 20))).astype(np.float32)
train_set = TensorDataset(torch.from_numpy(points[:500]), torch.from_numpy(labels[:500]))
test_set = TensorDataset(torch.tensor(points[500:]), torch.LongTensor(labels[500:]))
train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
test_loader = DataLoader(test_set, batch_size=100)

model = Net().to(device)
optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
losses = []
for epoch in range(1, 4):
    train(model, device, train_loader, optimizer, epoch, losses)
    accuracy = test(model, device, test_loader)
    scheduler.step()

path = os.path.join(tempfile.mkdtemp(), "mnist_mlp.pt")
torch.save(model.state_dict(), path)
restored = Net().to(device)
restored.load_state_dict(torch.load(path))
restored.eval()
with torch.no_grad():
    sample = test_set[0:5][0].to(device)
    _, predicted = torch.max(restored(sample).data, 1)
    _, original = torch.max(model(sample).data, 1)
same_after_reload = bool((predicted == original).all())
print('reloaded model agrees:', same_after_reload)
